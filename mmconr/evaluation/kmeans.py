"""k-means on faiss (GPU when faiss-gpu and CUDA are present, CPU otherwise)."""
import warnings
from typing import Tuple, Union

import numpy as np
import torch

try:
    import faiss
except ImportError as exc:  # pragma: no cover - faiss is a hard requirement
    raise ImportError('mmconr needs faiss for k-means: pip install faiss-cpu '
                      '(or faiss-gpu on a CUDA machine)') from exc

ArrayLike = Union[np.ndarray, torch.Tensor]


def _use_gpu() -> bool:
    return (hasattr(faiss, 'get_num_gpus') and faiss.get_num_gpus() > 0
            and torch.cuda.is_available())


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
           seed: int = 0,
           spherical: bool = True,
           init: str = 'k-means++',
           normalize: bool = False) -> Tuple[torch.Tensor, torch.LongTensor]:
    """Lloyd k-means on all points with faiss.

    Unlike faiss' default, every point takes part (no silent subsampling to
    256 points per centroid).

    Args:
        feats: (N, D) features.
        num_clusters: K, 2 <= K <= N.
        n_init: independent runs; the one with the lowest objective is kept.
        max_iter: Lloyd iterations per run.
        seed: random seed of the first run (run r uses ``seed + r``).
        spherical: re-normalise the centroids after every iteration (the
            "cosine" k-means of the official code, for L2-normalised feats).
        init: ``'k-means++'`` (scikit-learn's seeding, as the official code)
            or ``'random'`` (faiss' own random init).
        normalize: L2-normalise ``feats`` first.

    Returns:
        (centroids FloatTensor (K, D), labels LongTensor (N,)) on the CPU.
    """
    x = feats.detach().cpu().float().numpy() if isinstance(
        feats, torch.Tensor) else np.asarray(feats, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f'feats must be 2-D (N, D), got shape {x.shape}')
    n, d = x.shape
    if not isinstance(num_clusters, (int, np.integer)) or num_clusters < 2:
        raise ValueError(
            f'num_clusters must be an integer >= 2, got {num_clusters!r}')
    if num_clusters > n:
        raise ValueError(f'num_clusters={num_clusters} is larger than the '
                         f'number of samples {n}')
    if not np.isfinite(x).all():
        raise ValueError('feats contains NaN or inf values; k-means would '
                         'produce meaningless clusters')
    if init not in ('k-means++', 'random'):
        raise ValueError(f"init must be 'k-means++' or 'random', got {init!r}")
    if n_init < 1 or max_iter < 1:
        raise ValueError(f'n_init={n_init} and max_iter={max_iter} must be '
                         '>= 1')
    x = np.ascontiguousarray(x)
    if normalize:
        x /= np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)

    best = None
    for run in range(n_init):
        km = faiss.Kmeans(
            d,
            int(num_clusters),
            niter=max_iter,
            nredo=1,
            seed=seed + run,
            spherical=spherical,
            max_points_per_centroid=int(np.ceil(n / num_clusters)) + 1,
            min_points_per_centroid=1,
            gpu=_use_gpu(),
            verbose=False)
        init_centroids = None
        if init == 'k-means++':
            from sklearn.cluster import kmeans_plusplus
            init_centroids, _ = kmeans_plusplus(
                x, int(num_clusters), random_state=seed + run)
            init_centroids = np.ascontiguousarray(init_centroids, np.float32)
            if spherical:
                init_centroids /= np.linalg.norm(
                    init_centroids, axis=1, keepdims=True).clip(min=1e-12)
        km.train(x, init_centroids=init_centroids)
        sq_dists, labels = km.index.search(x, 1)
        objective = float(sq_dists.sum())
        if best is None or objective < best[0]:
            best = (objective, km.centroids.copy(), labels[:, 0].copy(),
                    sq_dists[:, 0].copy())

    _, centroids, labels, sq_dists = best
    fill_empty_clusters(x, centroids, labels, sq_dists)
    return torch.from_numpy(centroids), torch.from_numpy(labels.astype(
        np.int64))
