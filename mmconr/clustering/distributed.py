"""k-means of features that every rank holds, with one result everywhere."""
import torch
import torch.distributed as torch_dist
from mmengine import dist

from .kmeans import kmeans


def kmeans_on_main(feats: torch.Tensor, num_clusters: int, **kmeans_cfg):
    """:func:`~.kmeans.kmeans` of ``feats`` (N, D) on the main process; its
    centroids (K, D) and labels (N,) broadcast to every rank, on the
    features' device. Outside a process group: plain k-means."""
    centroids = torch.zeros(num_clusters, feats.shape[1], device=feats.device)
    labels = torch.zeros(feats.shape[0], dtype=torch.long,
                         device=feats.device)
    if dist.is_main_process():
        c, lab = kmeans(feats, num_clusters, **kmeans_cfg)
        centroids.copy_(c)
        labels.copy_(lab)
    dist.broadcast(centroids, src=0)
    dist.broadcast(labels, src=0)
    return centroids, labels


def kmeans_spread(feats: torch.Tensor, num_clusters: int, **kmeans_cfg):
    """:func:`~.kmeans.kmeans` of ``feats`` (N, D), which every rank holds,
    with its ``n_init`` runs spread over the ranks (rank r runs r, r + W,
    ...; the best run is everyone's), as the official code spreads them:
    the result of one process in 1/W of its time. Centroids (K, D) and
    labels (N,) on every rank, on the features' device. Outside a process
    group: plain k-means."""
    if not (torch_dist.is_available() and torch_dist.is_initialized()
            and torch_dist.get_world_size() > 1):
        centroids, labels = kmeans(feats, num_clusters, **kmeans_cfg)
    else:
        centroids, labels = kmeans(
            feats, num_clusters, spread_runs=(torch_dist.get_rank(),
                                              torch_dist.get_world_size()),
            **kmeans_cfg)
    return centroids.to(feats.device), labels.to(feats.device)
