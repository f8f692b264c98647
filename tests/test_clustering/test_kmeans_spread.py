"""kmeans_spread outside a process group is plain k-means (over ranks:
tests/test_clustering/test_sharded_kmeans.py)."""
import torch

from mmconr.clustering import kmeans, kmeans_spread


def test_single_process_is_plain_kmeans():
    torch.manual_seed(0)
    feats = torch.randn(200, 6)
    centroids, labels = kmeans_spread(feats, 4, n_init=2, seed=3)
    ref_c, ref_l = kmeans(feats, 4, n_init=2, seed=3)
    assert torch.equal(labels, ref_l) and torch.allclose(centroids, ref_c)
