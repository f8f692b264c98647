"""k-means of features that every rank holds, with one result everywhere."""
import torch
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
