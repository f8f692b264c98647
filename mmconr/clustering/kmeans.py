"""Lloyd k-means in PyTorch, on the device of the features (GPU when the
features are there, e.g. the per-epoch k-means of BoundaryFilterHook).

Every point takes part in every iteration; assignments are one GEMM per
chunk of points, updates one ``index_add_``. Seeding is scikit-learn's
greedy k-means++ (``2 + ln K`` candidates per centre), optionally on a
random subsample; iterations stop on scikit-learn's criterion (total squared
centre shift <= ``tol`` x mean feature variance). docs/benchmark.md compares
time and inertia with ``sklearn.cluster.KMeans``. Clusters still empty
after the last iteration are given a point (with a warning).
"""
import warnings
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .checks import check_num_clusters

ArrayLike = Union[np.ndarray, torch.Tensor]

# Scores computed at once (points x centres): 1 Mi fp32 = 4 MiB, recycled
# by the allocator (timings: docs/benchmark.md).
CHUNK_ELEMS = 1 << 20

# The k-means settings of the two places that cluster by default: the
# evaluation (ClusteringMetric, the Python API) and the per-epoch k-means of
# BoundaryFilterHook. Configs override them with ``kmeans_cfg``.
EVAL_KMEANS = dict(n_init=3, max_iter=100, seed=0, spherical=True)
EPOCH_KMEANS = dict(n_init=1, max_iter=50, seed=0, spherical=True)


def kmeans_settings(defaults: dict, overrides: Optional[dict]) -> dict:
    """``defaults`` updated by ``overrides`` (a new dict)."""
    return {**defaults, **(overrides or {})}


def _as_tensor(feats: ArrayLike) -> torch.Tensor:
    x = feats.detach() if isinstance(feats, torch.Tensor) else \
        torch.from_numpy(np.asarray(feats))
    if x.dim() != 2:
        raise ValueError(
            f'feats must be 2-D (N, D), got shape {tuple(x.shape)}')
    return x.float().contiguous()


def assign_to_centroids(
        x: torch.Tensor,
        centroids: torch.Tensor,
        x_sq: Optional[torch.Tensor] = None
) -> Tuple[torch.LongTensor, torch.Tensor]:
    """Nearest centroid of every point (row of ``x``) and its squared
    distance: k-means' own assignment step, so that points it clustered are
    given the same labels again (a saved clustering applied to new data).
    """
    if x_sq is None:
        x_sq = x.pow(2).sum(1)
    half_sq = 0.5 * centroids.pow(2).sum(1)
    step = max(1, CHUNK_ELEMS // centroids.shape[0])
    labels = torch.empty(x.shape[0], dtype=torch.long, device=x.device)
    best = torch.empty(x.shape[0], device=x.device)
    for s in range(0, x.shape[0], step):
        # argmin ||x - c||² = argmax (x.c - ||c||²/2)
        scores = torch.addmm(half_sq, x[s:s + step], centroids.t(),
                             beta=-1.0)
        best[s:s + step], labels[s:s + step] = scores.max(1)
    dist_sq = (x_sq - 2 * best).clamp_min_(0)
    return labels, dist_sq


def _kmeans_plusplus(x: torch.Tensor, k: int,
                     rng: np.random.RandomState) -> torch.Tensor:
    """Greedy k-means++ seeding, step for step scikit-learn's
    ``kmeans_plusplus`` (same random stream, potentials in float64), so
    that a seed gives scikit-learn's centres up to float rounding."""
    n = x.shape[0]
    trials = 2 + int(np.log(k))
    x_sq = x.pow(2).sum(1)

    def sq_dist(idx):  # (N, len(idx)); x @ x[idx]ᵀ is the fast GEMM shape
        d = torch.addmm(x_sq[idx][None], x, x[idx].t(), alpha=-2.0)
        return d.add_(x_sq[:, None]).clamp_min_(0).double()

    first = int(rng.choice(n, p=np.full(n, 1.0 / n)))
    centers = [first]
    closest = sq_dist(torch.tensor([first], device=x.device))[:, 0]
    for _ in range(1, k):
        rand = torch.from_numpy(rng.uniform(size=trials)).to(x.device)
        cand = torch.searchsorted(torch.cumsum(closest, 0),
                                  rand * closest.sum())
        cand = cand.clamp_(max=n - 1)
        cand_dist = torch.minimum(closest[:, None], sq_dist(cand))
        best = int(cand_dist.sum(0).argmin())
        centers.append(int(cand[best]))
        closest = cand_dist[:, best]
    return x[centers].clone()


def _init_centroids(x: torch.Tensor, k: int, init: str,
                    init_size: Optional[int],
                    rng: np.random.RandomState) -> torch.Tensor:
    n = x.shape[0]
    if init == 'random':
        return x[torch.from_numpy(rng.permutation(n)[:k]).to(
            x.device)].clone()
    if init_size is not None and init_size < n:
        sample = rng.permutation(n)[:max(init_size, k)]
        x = x[torch.from_numpy(sample).to(x.device)]
    return _kmeans_plusplus(x, k, rng)


def _lloyd(x: torch.Tensor, centroids: torch.Tensor, max_iter: int,
           tol: float, spherical: bool):
    x_sq = x.pow(2).sum(1)
    k = centroids.shape[0]
    for _ in range(max_iter):
        labels, dist_sq = assign_to_centroids(x, centroids, x_sq)
        counts = torch.bincount(labels, minlength=k)
        sums = x.new_zeros(k, x.shape[1]).index_add_(0, labels, x)
        new = sums / counts.clamp_min(1)[:, None].to(x.dtype)
        empty = (counts == 0).nonzero().flatten()
        if empty.numel():
            # scikit-learn's relocation: the points farthest from their
            # centres become the empty clusters' centres
            far = dist_sq.topk(empty.numel()).indices
            new[empty] = x[far]
        if spherical:
            new = F.normalize(new, dim=1)
        shift = (new - centroids).pow(2).sum()
        centroids = new
        if shift <= tol:
            break
    labels, dist_sq = assign_to_centroids(x, centroids, x_sq)
    return centroids, labels, float(dist_sq.sum())


def fill_empty_clusters(x: np.ndarray, centroids: np.ndarray,
                        labels: np.ndarray, sq_dists: np.ndarray) -> None:
    """Give every empty cluster one point, in place, with a warning: the
    points farthest from their centroids (taken from clusters that keep at
    least one point; possible whenever N >= K) become the empty clusters'
    members and centroids. The warning says when the features have
    collapsed (fewer distinct vectors than K).
    """
    num_clusters = centroids.shape[0]
    sizes = np.bincount(labels, minlength=num_clusters)
    empty = np.flatnonzero(sizes == 0)
    if not empty.size:
        return
    farthest = iter(np.argsort(-sq_dists, kind='stable'))
    for cluster in empty:
        idx = next(i for i in farthest if sizes[labels[i]] > 1)
        sizes[labels[idx]] -= 1
        labels[idx], sizes[cluster] = cluster, 1
        sq_dists[idx] = 0.0
        centroids[cluster] = x[idx]
    msg = (f'k-means left {empty.size} of {num_clusters} clusters empty; '
           'each got the point farthest from its centroid')
    distinct = np.unique(x, axis=0).shape[0]
    if distinct < num_clusters:
        msg += (f'. Only {distinct} distinct feature vectors among '
                f'{x.shape[0]} for num_clusters={num_clusters}: the features '
                'have collapsed (check the loss and the learning rate) or '
                'num_clusters is too large')
    warnings.warn(msg)


def kmeans(feats: ArrayLike,
           num_clusters: int,
           *,
           n_init: int = 1,
           max_iter: int = 50,
           tol: float = 1e-4,
           seed: int = 0,
           spherical: bool = True,
           init: str = 'k-means++',
           init_size: Union[int, str, None] = 'auto',
           normalize: bool = False,
           centroids: str = 'normalized'
           ) -> Tuple[torch.Tensor, torch.LongTensor]:
    """Lloyd k-means on all points, on the device of ``feats``.

    Args:
        feats: (N, D) features (tensor on any device, or array).
        num_clusters: K, 2 <= K <= N.
        n_init: independent runs; the one with the lowest inertia is kept.
        max_iter: Lloyd iterations per run at most.
        tol: stop when the total squared centre shift of an iteration is at
            most ``tol`` x the mean per-feature variance (scikit-learn's
            criterion); 0 runs all ``max_iter`` iterations.
        seed: random seed of the first run (run r uses ``seed + r``).
        spherical: re-normalise the centroids after every iteration (the
            "cosine" k-means of the official code, for L2-normalised feats).
        init: ``'k-means++'`` (scikit-learn's greedy seeding, as the
            official code) or ``'random'`` (K distinct points).
        init_size: seed k-means++ on this many random points; ``'auto'``:
            max(10000, 100 K) (all points when N is smaller), ``None``: all
            points. Seeding costs O(K log K N D) on all points, and Lloyd's
            iterations on all points reach the same mean inertia from a
            subsampled seeding (timings and inertia: docs/benchmark.md).
        normalize: L2-normalise ``feats`` first.
        centroids: with ``spherical``, return the unit-norm centres
            (``'normalized'``) or the plain means of each cluster's points
            (``'mean'``, as the official code's k-means, whose boundary
            ratio uses them). The labels are the same either way.

    Returns:
        (centroids FloatTensor (K, D), labels LongTensor (N,)) on the CPU;
        the labels are the centroids' nearest-centre assignment.
    """
    x = _as_tensor(feats)
    n = x.shape[0]
    num_clusters = check_num_clusters(num_clusters)
    if num_clusters > n:
        raise ValueError(f'num_clusters={num_clusters} is larger than the '
                         f'number of samples {n}')
    if not torch.isfinite(x).all():
        raise ValueError('feats contains NaN or inf values; k-means would '
                         'produce meaningless clusters')
    if init not in ('k-means++', 'random'):
        raise ValueError(f"init must be 'k-means++' or 'random', got {init!r}")
    if n_init < 1 or max_iter < 1:
        raise ValueError(f'n_init={n_init} and max_iter={max_iter} must be '
                         '>= 1')
    if tol < 0:
        raise ValueError(f'tol must be >= 0, got {tol!r}')
    if centroids not in ('normalized', 'mean'):
        raise ValueError(f"centroids must be 'normalized' or 'mean', got "
                         f'{centroids!r}')
    want_means = spherical and centroids == 'mean'
    if init_size == 'auto':
        init_size = max(10000, 100 * num_clusters)
    if init_size is not None and (not isinstance(init_size, (int, np.integer))
                                  or init_size < 1):
        raise ValueError(
            f"init_size must be a positive integer, 'auto' or None, got "
            f'{init_size!r}')
    if normalize:
        x = F.normalize(x, dim=1)
    tol_abs = tol * float(x.var(0, unbiased=False).mean())

    best = None
    with torch.no_grad():
        for run in range(n_init):
            rng = np.random.RandomState(seed + run)
            centroids = _init_centroids(x, num_clusters, init, init_size, rng)
            if spherical:
                centroids = F.normalize(centroids, dim=1)
            centroids, labels, inertia = _lloyd(x, centroids, max_iter,
                                                tol_abs, spherical)
            if best is None or inertia < best[0]:
                best = (inertia, centroids, labels)
    _, centres, labels = best
    dist_sq = (x - centres[labels]).pow(2).sum(1)
    centres, labels = centres.cpu().numpy(), labels.cpu().numpy()
    points = x.cpu().numpy()
    fill_empty_clusters(points, centres, labels, dist_sq.cpu().numpy())
    centres, labels = torch.from_numpy(centres), torch.from_numpy(labels)
    if want_means:  # every cluster holds a point (fill_empty_clusters)
        sums = torch.zeros_like(centres).index_add_(
            0, labels, torch.from_numpy(points))
        counts = torch.bincount(labels, minlength=num_clusters)
        centres = sums / counts[:, None].to(sums.dtype)
    return centres, labels
