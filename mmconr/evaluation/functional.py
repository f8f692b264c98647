"""Clustering metrics: NMI, ACC (Hungarian matching) and ARI."""
from typing import Dict, Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix


def _to_numpy(labels, name: str) -> np.ndarray:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f'{name} must be 1-D, got shape {labels.shape}')
    return labels.astype(np.int64)


def cluster_accuracy(gt_labels: np.ndarray, pred_labels: np.ndarray) -> float:
    """Best one-to-one match of clusters to classes (Hungarian), as a
    fraction of samples."""
    # (clusters, classes) sample counts
    counts = contingency_matrix(pred_labels, gt_labels)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum()) / len(gt_labels)


def cluster_purity(gt_labels, pred_labels) -> float:
    """Fraction of samples carrying the majority class of their cluster."""
    gt = _to_numpy(gt_labels, 'gt_labels')
    pred = _to_numpy(pred_labels, 'pred_labels')
    counts = contingency_matrix(pred, gt)  # (clusters, classes)
    return float(counts.max(axis=1).sum()) / len(gt)


def labelled_pairs(gt_labels, pred_labels) -> Tuple[np.ndarray, np.ndarray]:
    """The (label, cluster) pairs of the samples with a label >= 0, as
    int64 arrays; unequal lengths and no labelled sample are refused."""
    gt = _to_numpy(gt_labels, 'gt_labels')
    pred = _to_numpy(pred_labels, 'pred_labels')
    if gt.shape != pred.shape:
        raise ValueError(f'gt_labels has {gt.shape[0]} entries but '
                         f'pred_labels has {pred.shape[0]}')
    keep = gt >= 0
    if not keep.any():
        raise ValueError('no sample has a ground-truth label >= 0; clustering '
                         'metrics need labelled samples')
    return gt[keep], pred[keep]


def cluster_metrics(gt_labels, pred_labels) -> Dict[str, float]:
    """NMI (arithmetic), ACC and ARI as fractions in [0, 1].

    Samples whose ground-truth label is negative (e.g. STL-10's unlabeled
    split, label -1) are ignored.
    """
    gt, pred = labelled_pairs(gt_labels, pred_labels)
    return dict(
        nmi=float(normalized_mutual_info_score(gt, pred)),
        acc=cluster_accuracy(gt, pred),
        ari=float(adjusted_rand_score(gt, pred)))


def matched_confusion(gt_labels, pred_labels):
    """Counts of (class, cluster) with the clusters in the order of the
    Hungarian match of :func:`cluster_accuracy`: the matched clusters first,
    in the order of their classes, then the unmatched ones in id order
    (with K = classes, column j is the cluster matched to the class of row
    j). Samples with a negative label are left out.

    Returns:
        (matrix (num_classes, num_clusters) int64, class ids, cluster ids in
        column order, the row of each column's matched class or -1), the
        last three as numpy arrays; ``matrix[matched, columns].sum()`` over
        the matched columns is ACC x N.
    """
    gt, pred = labelled_pairs(gt_labels, pred_labels)
    classes, clusters = np.unique(gt), np.unique(pred)
    counts = contingency_matrix(gt, pred)  # (classes, clusters)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    by_class = np.argsort(rows)
    matched = list(cols[by_class])
    order = matched + [c for c in range(len(clusters)) if c not in matched]
    matched_rows = np.full(len(order), -1)
    matched_rows[:len(matched)] = rows[by_class]
    return counts[:, order], classes, clusters[order], matched_rows
