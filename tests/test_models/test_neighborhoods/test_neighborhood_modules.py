import pytest
import torch

from mmconr.models.neighborhoods import (ConAffNeighborhood, LocalNeighborhood,
                                         conaff_neighbors, local_neighbors)


def test_registered_modules_wrap_the_functions():
    torch.manual_seed(2)
    feats = torch.randn(40, 6)
    assert torch.equal(
        ConAffNeighborhood(k=8, k1=10, k2=3)(feats),
        conaff_neighbors(feats, 8, 10, 3))
    assert torch.equal(
        LocalNeighborhood(k=7)(feats), local_neighbors(feats, 7))
    assert ConAffNeighborhood(k=20, k1=30, k2=10).min_batch_size == 30
    with pytest.raises(ValueError, match='k2=4 must not exceed k1=3'):
        ConAffNeighborhood(k=3, k1=3, k2=4)
