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
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist

from .checks import check_num_clusters
from .faiss_backend import faiss_available, faiss_kmeans
from .shards import LocalShards, shards_of

ArrayLike = Union[np.ndarray, torch.Tensor]

# Scores computed at once (points x centres): 1 Mi fp32 = 4 MiB, recycled
# by the allocator (timings: docs/benchmark.md).
CHUNK_ELEMS = 1 << 20

# The k-means settings of the two places that cluster by default: the
# evaluation (ClusteringMetric, the Python API) and the per-epoch k-means of
# BoundaryFilterHook. Configs override them with ``kmeans_cfg``.
EVAL_KMEANS = dict(n_init=3, max_iter=100, seed=0, spherical=True)
EPOCH_KMEANS = dict(n_init=1, max_iter=50, seed=0, spherical=True)


BACKENDS = ('torch', 'faiss', 'auto')


def resolve_backend(backend: str, distributed: bool = False) -> str:
    """``'torch'`` or ``'faiss'`` for ``backend`` (``'auto'``: faiss where
    a usable one is installed and the k-means runs in one process)."""
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    if backend == 'auto':
        return 'faiss' if faiss_available() and not distributed else 'torch'
    return backend


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


def _kmeans_plusplus(shards: LocalShards, k: int,
                     rng: np.random.RandomState) -> torch.Tensor:
    """Greedy k-means++ seeding, step for step scikit-learn's
    ``kmeans_plusplus`` (same random stream, potentials in float64), so
    that a seed gives scikit-learn's centres up to float rounding. Over
    shards, each rank keeps the potentials of its rows; a draw is found by
    a prefix sum over the ranks' totals, candidate potentials are summed
    over the ranks."""
    x, n = shards.x, shards.total
    trials = 2 + int(np.log(k))
    x_sq = x.pow(2).sum(1)

    def sq_dist(rows):  # (n_local, len(rows)); x @ rowsᵀ is the fast shape
        d = torch.addmm(rows.pow(2).sum(1)[None], x, rows.t(), alpha=-2.0)
        return d.add_(x_sq[:, None]).clamp_min_(0).double()

    first = int(rng.choice(n, p=np.full(n, 1.0 / n)))
    centers = [shards.rows([first])]
    closest = sq_dist(centers[0])[:, 0]
    for _ in range(1, k):
        rand = torch.from_numpy(rng.uniform(size=trials)).to(x.device)
        cum = torch.cumsum(closest, 0)
        if shards.world_size == 1:
            target = rand * closest.sum()
        else:  # the global cumulative sum: this rank's part + the ranks'
            totals = shards.local_sums(closest)  # before it
            cum += sum(totals[:shards.rank])
            target = rand * sum(totals)
        # the first global index whose cumulative potential reaches the
        # target: the smallest over the ranks of their local first index
        local = torch.searchsorted(cum, target)
        cand = torch.where(local < closest.numel(), local + shards.offset,
                           torch.full_like(local, n))
        cand = shards.min(cand).clamp_(max=n - 1)
        rows = shards.rows(cand.tolist())
        cand_dist = torch.minimum(closest[:, None], sq_dist(rows))
        best = int(shards.sum(cand_dist.sum(0)).argmin())
        centers.append(rows[best:best + 1])
        closest = cand_dist[:, best]
    return torch.cat(centers)


def _init_centroids(shards: LocalShards, k: int, init: str,
                    init_size: Optional[int],
                    rng: np.random.RandomState) -> torch.Tensor:
    n = shards.total
    if init == 'random':
        return shards.rows(rng.permutation(n)[:k].tolist())
    if init_size is not None and init_size < n:
        # the sample, in its random order, on every rank: seeding runs on
        # it as in one process (O(init_size x D) per rank)
        sample = rng.permutation(n)[:max(init_size, k)]
        return _kmeans_plusplus(LocalShards(shards.rows(sample.tolist())),
                                k, rng)
    return _kmeans_plusplus(shards, k, rng)


def _lloyd(shards: LocalShards, centroids: torch.Tensor, max_iter: int,
           tol: float, spherical: bool):
    x = shards.x
    x_sq = x.pow(2).sum(1)
    k = centroids.shape[0]
    for _ in range(max_iter):
        labels, dist_sq = assign_to_centroids(x, centroids, x_sq)
        counts = shards.sum(torch.bincount(labels, minlength=k))
        sums = shards.sum(x.new_zeros(k, x.shape[1]).index_add_(0, labels, x))
        new = sums / counts.clamp_min(1)[:, None].to(x.dtype)
        empty = (counts == 0).nonzero().flatten()
        if empty.numel():
            # scikit-learn's relocation: the points farthest from their
            # centres become the empty clusters' centres
            new[empty] = shards.rows(_farthest(shards, dist_sq,
                                               empty.numel()))
        if spherical:
            new = F.normalize(new, dim=1)
        shift = (new - centroids).pow(2).sum()
        centroids = new
        if shift <= tol:
            break
    labels, dist_sq = assign_to_centroids(x, centroids, x_sq)
    inertia = float(shards.sum(dist_sq.sum().double().reshape(1))) if \
        shards.world_size > 1 else float(dist_sq.sum())
    return centroids, labels, inertia


def _farthest(shards: LocalShards, dist_sq: torch.Tensor,
              m: int) -> List[int]:
    """Global indices of the ``m`` rows farthest from their centres, the
    farthest first."""
    if shards.world_size == 1:
        return dist_sq.topk(m).indices.tolist()
    m_local = min(m, dist_sq.numel())
    values, idx = dist_sq.topk(m_local)
    pad = m - m_local
    values = torch.cat([values, values.new_full((pad, ), -1.0)])
    idx = torch.cat([idx + shards.offset, idx.new_zeros(pad)])
    values = torch.cat(dist.all_gather(values))
    idx = torch.cat(dist.all_gather(idx))
    return idx[values.topk(m).indices].tolist()


def fill_plan(labels: np.ndarray, sq_dists: np.ndarray,
              num_clusters: int) -> List[Tuple[int, int]]:
    """(empty cluster, point) pairs of :func:`fill_empty_clusters`; updates
    ``labels`` and ``sq_dists`` in place."""
    sizes = np.bincount(labels, minlength=num_clusters)
    empty = np.flatnonzero(sizes == 0)
    plan = []
    if not empty.size:
        return plan
    farthest = iter(np.argsort(-sq_dists, kind='stable'))
    for cluster in empty:
        idx = next(i for i in farthest if sizes[labels[i]] > 1)
        sizes[labels[idx]] -= 1
        labels[idx], sizes[cluster] = cluster, 1
        sq_dists[idx] = 0.0
        plan.append((int(cluster), int(idx)))
    return plan


def _empty_message(filled: int, num_clusters: int) -> str:
    return (f'k-means left {filled} of {num_clusters} clusters empty; '
            'each got the point farthest from its centroid')


def fill_empty_clusters(x: np.ndarray, centroids: np.ndarray,
                        labels: np.ndarray, sq_dists: np.ndarray) -> None:
    """Give every empty cluster one point, in place, with a warning: the
    points farthest from their centroids (taken from clusters that keep at
    least one point; possible whenever N >= K) become the empty clusters'
    members and centroids. The warning says when the features have
    collapsed (fewer distinct vectors than K).
    """
    num_clusters = centroids.shape[0]
    plan = fill_plan(labels, sq_dists, num_clusters)
    if not plan:
        return
    for cluster, idx in plan:
        centroids[cluster] = x[idx]
    msg = _empty_message(len(plan), num_clusters)
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
           centroids: str = 'normalized',
           sharded: bool = False,
           spread_runs: Optional[Tuple[int, int]] = None,
           backend: str = 'torch'
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
        sharded: ``feats`` is this rank's block of rows of the matrix that
            the ranks of the default process group hold together, in rank
            order (e.g. contiguous blocks of dataset indices). Every step
            reduces only (K, D) sums, counts and scalars over the ranks, so
            memory per rank is O(N/W x D + K x D) (plus the seeding sample
            of ``init_size`` rows, and O(N) scalars where an empty cluster
            is refilled); the result equals the one-process
            k-means of the concatenated rows up to float rounding. Without a
            process group of several ranks: plain k-means.
        spread_runs: ``(rank, world_size)``: every rank holds all rows and
            runs only the runs ``rank, rank + world_size, ...`` of
            ``n_init``; the best run over the ranks (lowest inertia, the
            first on a tie, as in one process) is everyone's result, which
            equals the one-process result (:func:`.distributed.
            kmeans_spread` passes it).
        backend: ``'torch'`` (this module), ``'faiss'``
            (:mod:`.faiss_backend`: the same arguments, checks, empty-cluster
            filling and centroids; faiss' own seeding stream, no ``tol``,
            ``init_size``, ``sharded`` or ``spread_runs``) or ``'auto'``
            (faiss where it is installed and the k-means runs in one
            process, else torch).
            ``tools/analysis_tools/benchmark_neighborhood.py`` compares
            them on your machine.

    Returns:
        (centroids FloatTensor (K, D), labels LongTensor (N,)) on the CPU;
        the labels are the centroids' nearest-centre assignment (with
        ``sharded``: the labels of this rank's rows; the same centroids on
        every rank).
    """
    x = _as_tensor(feats)
    shards = shards_of(x, sharded)
    n = shards.total
    num_clusters = check_num_clusters(num_clusters)
    if num_clusters > n:
        raise ValueError(f'num_clusters={num_clusters} is larger than the '
                         f'number of samples {n}')
    bad = (~torch.isfinite(x)).any().reshape(1).long()
    if shards.sum(bad).item():
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
    if spread_runs is not None and shards.world_size > 1:
        raise ValueError('spread_runs needs every row on every rank; it does '
                         'not combine with sharded=True')
    distributed = shards.world_size > 1 or spread_runs is not None
    backend = resolve_backend(backend, distributed)
    if backend == 'faiss' and distributed:
        raise ValueError("backend='faiss' clusters in one process; use "
                         "backend='torch' with sharded / spread runs")
    if normalize:
        x = F.normalize(x, dim=1)
        shards.x = x
    if backend == 'faiss':
        centres, labels = faiss_kmeans(x, num_clusters, n_init, max_iter,
                                       seed, spherical, init)
        return _finish(shards, x.cpu(), centres, labels, want_means,
                       num_clusters)
    tol_abs = tol * shards.variance_mean()

    runs = range(n_init)
    if spread_runs is not None:
        runs = runs[spread_runs[0]::spread_runs[1]]
    best = None
    with torch.no_grad():
        for run in runs:
            rng = np.random.RandomState(seed + run)
            centroids = _init_centroids(shards, num_clusters, init,
                                        init_size, rng)
            if spherical:
                centroids = F.normalize(centroids, dim=1)
            centroids, labels, inertia = _lloyd(shards, centroids, max_iter,
                                                tol_abs, spherical)
            if best is None or inertia < best[0]:
                best = (inertia, centroids, labels, run)
    if spread_runs is not None:
        best = _best_of_ranks(best, x)
    return _finish(shards, x, best[1], best[2], want_means, num_clusters)


def _finish(shards: LocalShards, x: torch.Tensor, centres: torch.Tensor,
            labels: torch.Tensor, want_means: bool, num_clusters: int):
    """Fill empty clusters, and the mean centroids where asked for."""
    dist_sq = (x - centres[labels]).pow(2).sum(1)
    if shards.world_size == 1:
        centres, labels = centres.cpu().numpy(), labels.cpu().numpy()
        points = x.cpu().numpy()
        fill_empty_clusters(points, centres, labels, dist_sq.cpu().numpy())
        centres, labels = torch.from_numpy(centres), torch.from_numpy(labels)
        points = torch.from_numpy(points)
        if want_means:  # every cluster holds a point (fill_empty_clusters)
            sums = torch.zeros_like(centres).index_add_(0, labels, points)
            counts = torch.bincount(labels, minlength=num_clusters)
            centres = sums / counts[:, None].to(sums.dtype)
        return centres, labels
    # over ranks, on the features' device (NCCL reduces CUDA tensors only)
    counts = shards.sum(torch.bincount(labels, minlength=num_clusters))
    if (counts == 0).any():
        centres, labels = _fill_sharded(shards, centres, labels, dist_sq)
        centres, labels = centres.to(x.device), labels.to(x.device)
    if want_means:
        sums = shards.sum(torch.zeros_like(centres).index_add_(0, labels, x))
        counts = shards.sum(torch.bincount(labels, minlength=num_clusters))
        centres = sums / counts[:, None].to(sums.dtype)
    return centres.cpu(), labels.cpu()


def _best_of_ranks(best, x: torch.Tensor):
    """The (inertia, centroids, labels, run) of the run with the lowest
    inertia over the ranks, the first run on a tie as in one process (a
    rank without a run offers inf), on every rank."""
    mine = torch.tensor([best[0], best[3]] if best else [float('inf'), 0],
                        dtype=torch.float64, device=x.device)
    parts = dist.all_gather(mine)
    src = min(range(len(parts)), key=lambda r: (float(parts[r][0]),
                                                float(parts[r][1])))
    if best is None:
        best = (None, x.new_zeros(0),
                torch.zeros(0, dtype=torch.long, device=x.device), 0)
    objects = [(best[1].cpu(), best[2].cpu())]
    dist.broadcast_object_list(objects, src=src)
    centres, labels = objects[0]
    return (float(parts[src][0]), centres.to(x.device), labels.to(x.device),
            int(parts[src][1]))


def _fill_sharded(shards: LocalShards, centres: torch.Tensor,
                  labels: torch.Tensor, dist_sq: torch.Tensor):
    """:func:`fill_empty_clusters` over shards (only when a cluster is
    empty): the plan from every rank's labels and distances, gathered (O(N)
    scalars), the points from their ranks."""
    all_labels = shards.cat(labels).cpu().numpy()
    all_sq = shards.cat(dist_sq).cpu().numpy()
    plan = fill_plan(all_labels, all_sq, centres.shape[0])
    centres = centres.cpu()
    if plan:
        rows = shards.rows([idx for _, idx in plan]).cpu()
        for (cluster, _), row in zip(plan, rows):
            centres[cluster] = row
        warnings.warn(_empty_message(len(plan), centres.shape[0]))
    start = shards.offset
    local = torch.from_numpy(all_labels[start:start + labels.numel()])
    return centres, local.clone()
