"""k-means on target features, with each sample's place in its cluster."""
from typing import Dict, List, NamedTuple, Optional

import numpy as np
import torch
import torch.nn.functional as F

from mmconr.clustering import (EVAL_KMEANS, assign_to_centroids, kmeans,
                               kmeans_settings)
from mmconr.evaluation import cluster_metrics
from mmconr.models.boundary import boundary_ratio, keep_mask


class Clustering(NamedTuple):
    labels: torch.LongTensor  # (N,) cluster of each sample
    centroids: torch.Tensor  # (K, D)
    distances: torch.Tensor  # (N,) ||z_i - c_label(i)|| on normalised z
    boundary_ratios: torch.Tensor  # (N,) r_i of docs/method.md §2 (Eq. 9-11)

    @property
    def num_clusters(self) -> int:
        return self.centroids.shape[0]

    def sizes(self) -> List[int]:
        """Members per cluster (a label of -1, unassigned, counts in none).
        """
        labels = self.labels[self.labels >= 0]
        return torch.bincount(labels, minlength=self.num_clusters).tolist()

    def central_order(self, cluster: int) -> torch.LongTensor:
        """Indices of the members of ``cluster``, nearest to its centroid
        first (ties by index)."""
        members = (self.labels == cluster).nonzero().flatten()
        order = torch.sort(self.distances[members], stable=True).indices
        return members[order]


def describe(clustering: Clustering, feats: torch.Tensor) -> Clustering:
    """Distances and boundary ratios of ``feats`` for given labels and
    centroids (the features are L2-normalised first, as for k-means)."""
    z = F.normalize(feats.float(), dim=1)
    centroids = clustering.centroids.float()
    labels = clustering.labels.long()
    distances = (z - centroids[labels]).norm(dim=1)
    ratios = boundary_ratio(z, centroids, labels)
    return clustering._replace(distances=distances, boundary_ratios=ratios)


def cluster_features(feats: torch.Tensor,
                     num_clusters: int,
                     kmeans_cfg: Optional[Dict] = None) -> Clustering:
    """Spherical k-means (k-means++ init, as the evaluation) on the
    L2-normalised ``feats``; ``kmeans_cfg`` goes to
    :func:`mmconr.clustering.kmeans` (default
    :data:`mmconr.clustering.EVAL_KMEANS`, the test-time metric's)."""
    cfg = kmeans_settings(EVAL_KMEANS, kmeans_cfg)
    z = F.normalize(feats.float().cpu(), dim=1)
    centroids, _ = kmeans(z, num_clusters, **cfg)
    # every sample in its nearest cluster, as a saved clustering assigns
    # (k-means' own labels differ where it refilled an empty cluster or
    # returns mean centroids)
    labels, _ = assign_to_centroids(z, centroids)
    empty = Clustering(labels, centroids, torch.empty(0), torch.empty(0))
    return describe(empty, z)


def boundary_mask(clustering: Clustering, fraction: float) -> torch.Tensor:
    """The samples that Eq. 13 would filter out if the whole set were one
    batch: all but the ``ceil(fraction * N)`` smallest boundary ratios."""
    return ~keep_mask(clustering.boundary_ratios, fraction)


def label_agreement(gt_labels, clusters) -> Optional[Dict[str, float]]:
    """NMI / ACC / ARI (percent) over the samples with a label >= 0, or
    ``None`` when there is none."""
    gt = np.asarray(gt_labels)
    if not (gt >= 0).any():
        return None
    scores = cluster_metrics(gt, np.asarray(clusters))
    return {k.upper(): 100.0 * v for k, v in scores.items()}
