import math

import torch

from mmconr.models.neighborhoods import neighbor_purity


def test_purity_counts_same_class_neighbours_of_labelled_anchors():
    labels = torch.tensor([0, 0, 1, 1, -1])
    neighbors = torch.tensor([[0, 1, 2], [1, 0, 0], [2, 3, 4], [3, 0, 1],
                              [4, 0, 2]])
    # anchors 0-3 (4 is unlabelled): 1/2, 2/2, 1/2 (label -1 differs), 0/2
    assert float(neighbor_purity(neighbors, labels)) == (0.5 + 1 + 0.5) / 4
    # one column: the anchor itself counts
    assert float(neighbor_purity(neighbors[:, :1], labels)) == 1.0
    unlabelled = torch.full((5, ), -1)
    assert math.isnan(float(neighbor_purity(neighbors, unlabelled)))
