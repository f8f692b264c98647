"""k-means of features that every rank holds, with one result everywhere."""
import torch
from mmengine import dist

from .kmeans import kmeans


def kmeans_spread(feats: torch.Tensor, num_clusters: int, **kmeans_cfg):
    """:func:`~.kmeans.kmeans` of ``feats`` (N, D), which every rank holds,
    with its ``n_init`` runs spread over the ranks (rank r runs r, r + W,
    ...; the best run is everyone's), as the official code spreads them:
    the result of one process in 1/W of its time. Centroids (K, D) and
    labels (N,) on every rank, on the features' device. Outside a process
    group: plain k-means."""
    spread = None
    if dist.get_world_size() > 1:
        spread = (dist.get_rank(), dist.get_world_size())
    centroids, labels = kmeans(feats, num_clusters, spread_runs=spread,
                               **kmeans_cfg)
    return centroids.to(feats.device), labels.to(feats.device)
