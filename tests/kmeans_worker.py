"""Worker of the sharded k-means tests (tests/test_clustering/
test_sharded_kmeans.py): every rank builds the same data, keeps its
contiguous block of rows and runs k-means with ``sharded=True`` over a
gloo process group; rank r writes its centroids and labels to
``OUT/rank{r}.pt``."""
import os.path as osp
import sys
import warnings

import numpy as np
import torch
import torch.distributed as torch_dist

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def cases():
    """(name, points (N, D) float32, K, kmeans keyword arguments)."""
    rng = np.random.default_rng(3)
    centres = 3 * rng.standard_normal((6, 12))
    blobs = centres[rng.integers(0, 6, 1003)] + rng.standard_normal(
        (1003, 12))
    blobs = (blobs / np.linalg.norm(blobs, axis=1, keepdims=True)).astype(
        np.float32)
    # five distinct points for six clusters: empty clusters to refill
    collapsed = np.repeat(np.eye(5, 3, dtype=np.float32), 41, axis=0)[
        rng.permutation(205)]
    return [
        ('all_points', blobs, 6, dict(n_init=2, init_size=None)),
        ('subsampled', blobs, 6, dict(n_init=1, init_size=300, seed=4)),
        ('mean_centroids', blobs, 6, dict(n_init=2, init_size=None,
                                          centroids='mean')),
        ('euclidean', blobs * 3, 5,
         dict(spherical=False, init_size=None, tol=0.0, max_iter=30)),
        ('collapsed', collapsed, 6, dict(spherical=False, init_size=None)),
    ]


def spread_cases():
    """Cases of :func:`cases` with more runs than ranks (every rank holds
    all rows)."""
    return [(name, x, k, dict(cfg, n_init=5))
            for name, x, k, cfg in cases()[:2]]


def block(n: int, world: int, rank: int) -> slice:
    from mmconr.clustering.shards import shard_bounds
    return slice(*shard_bounds(n, world, rank))


def run(rank: int, world: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'file://{init_file}',
                                  rank=rank, world_size=world)
    from mmconr.clustering import kmeans, kmeans_spread
    results = {}
    for name, x, k, cfg in spread_cases():
        results['spread_' + name] = kmeans_spread(x, k, **cfg)
    try:  # runs spread over ranks need all rows on every rank
        kmeans(cases()[0][1], 3, sharded=True, spread_runs=(rank, world))
    except ValueError as exc:
        results['refused'] = str(exc)
    for name, x, k, cfg in cases():
        with warnings.catch_warnings(record=True):
            warnings.simplefilter('always')
            centroids, labels = kmeans(x[block(len(x), world, rank)], k,
                                       sharded=True, **cfg)
        results[name] = (centroids, labels)
    torch.save(results, osp.join(out_dir, f'rank{rank}.pt'))
    torch_dist.destroy_process_group()
