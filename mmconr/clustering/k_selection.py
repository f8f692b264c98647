"""Choosing the number of clusters K from the features.

For every K of a range, k-means runs once per seed on the L2-normalised
features. Each K gets three scores:

* **silhouette** (scikit-learn's ``silhouette_score``, Euclidean on the
  normalised features, i.e. a monotone function of cosine distance) of the
  run with the lowest inertia, on a fixed random sample of at most
  ``sample_size`` points;
* **inertia** of that run (sum of squared distances to the centres; it
  always falls with K, the "elbow" curve is for a person to look at);
* **stability**: the mean adjusted Rand index between the runs of different
  seeds (1: every seed finds the same partition).

The rule (:func:`choose_num_clusters`): among the K whose stability is at
least ``min_stability``, those whose silhouette is within
``tolerance`` of the highest; of these the largest K. If no K is that
stable, the same among all K, and the reason says so. Silhouette tends to
reward merging two close clusters: on the trained digits demo's features K
= 8 scores 0.7875 and K = 10 (the ten digits, where the inertia curve has
its elbow) 0.7849; within the tolerance the finer partition is kept.
"""
from itertools import combinations
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import adjusted_rand_score, silhouette_score

from .kmeans import EVAL_KMEANS, assign_to_centroids, kmeans, kmeans_settings

DEFAULT_K_RANGE = (2, 30)
MIN_STABILITY = 0.8
SILHOUETTE_TOLERANCE = 0.01


class KScore(NamedTuple):
    k: int
    silhouette: float
    inertia: float
    stability: float


def parse_k_range(text: str) -> Tuple[int, int]:
    """``'2:30'`` -> (2, 30), both ends included."""
    parts = str(text).split(':')
    try:
        low, high = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"k-range must be 'MIN:MAX' with integers, e.g. "
                         f"'2:30', got {text!r}") from None
    if not 2 <= low <= high:
        raise ValueError(f'k-range {text!r}: need 2 <= MIN <= MAX')
    return low, high


def k_values(k_range: Tuple[int, int], num_samples: int) -> List[int]:
    """The K of ``k_range`` that ``num_samples`` points allow (silhouette
    needs K <= N - 1)."""
    low, high = k_range
    high = min(high, num_samples - 1)
    if high < low:
        raise ValueError(f'{num_samples} samples are too few to choose K in '
                         f'{low}..{k_range[1]} (K must be at most N - 1)')
    return list(range(low, high + 1))


def score_num_clusters(feats,
                       ks: Sequence[int],
                       seeds: Sequence[int] = (0, 1, 2),
                       sample_size: int = 2000,
                       kmeans_cfg: Optional[dict] = None) -> List[KScore]:
    """:class:`KScore` of every K in ``ks`` (see the module docstring);
    ``kmeans_cfg`` overrides :data:`EVAL_KMEANS` (its seed is replaced by
    each of ``seeds``; one run per seed)."""
    if len(seeds) < 2:
        raise ValueError('stability needs at least two seeds')
    z = F.normalize(torch.as_tensor(feats).float().cpu(), dim=1)
    rng = np.random.RandomState(0)
    sample = np.sort(rng.permutation(z.shape[0])[:sample_size])
    cfg = kmeans_settings(EVAL_KMEANS, kmeans_cfg)
    cfg['n_init'] = 1
    scores = []
    for k in ks:
        runs = []
        for seed in seeds:
            centres, labels = kmeans(z, k, **{**cfg, 'seed': seed})
            _, dist_sq = assign_to_centroids(z, centres)
            runs.append((float(dist_sq.sum()), labels.numpy()))
        inertia, best = min(runs, key=lambda run: run[0])
        stability = float(np.mean([
            adjusted_rand_score(a, b)
            for (_, a), (_, b) in combinations(runs, 2)
        ]))
        labels = best[sample]
        silhouette = float(silhouette_score(z[sample].numpy(), labels)) if \
            1 < len(np.unique(labels)) < len(labels) else -1.0
        scores.append(KScore(k, silhouette, inertia, stability))
    return scores


def choose_num_clusters(scores: Sequence[KScore],
                        min_stability: float = MIN_STABILITY,
                        tolerance: float = SILHOUETTE_TOLERANCE
                        ) -> Tuple[int, str]:
    """(K, the reason in words) by the rule of the module docstring."""
    if not scores:
        raise ValueError('no K was scored')
    stable = [s for s in scores if s.stability >= min_stability]
    pool = stable or list(scores)
    top = max(s.silhouette for s in pool)
    best = max((s for s in pool if s.silhouette >= top - tolerance),
               key=lambda s: s.k)
    near = '' if best.silhouette == top else (
        f', within {tolerance} of the highest ({top:.4f}): the largest such '
        'K')
    if stable:
        reason = (f'K={best.k}: silhouette {best.silhouette:.4f}{near}, among'
                  f' the {len(stable)} K whose assignments agree across seeds'
                  f' (stability, mean ARI >= {min_stability})')
    else:
        reason = (f'K={best.k}: silhouette {best.silhouette:.4f}{near}; no K '
                  f'was stable across seeds (mean ARI >= {min_stability}), '
                  'so the choice is uncertain')
    return best.k, reason


def format_scores(scores: Sequence[KScore], chosen: int) -> List[str]:
    lines = ['    K  silhouette       inertia  stability']
    for s in scores:
        mark = '  <- chosen' if s.k == chosen else ''
        lines.append(f'{s.k:5d}  {s.silhouette:10.4f}  {s.inertia:12.3f}  '
                     f'{s.stability:9.3f}{mark}')
    return lines
