"""Time and peak memory of ConAff retrieval and of k-means.

    python tools/analysis_tools/benchmark_neighborhood.py [--device cpu|cuda]

1. ``conaff_neighbors`` on random L2-normalised features (B, --dim) for
   every B of --batch-sizes and k/k1/k2 of --configs, with the default
   method (sparse rows from SPARSE_MIN_BATCH on) and, up to --dense-max,
   the dense reference; each measurement runs in a fresh process (its
   first call gives the peak memory, then --repeats timed calls).
2. k-means of --kmeans-samples x --dim features (an L2-normalised Gaussian
   mixture with K components) for every K of --kmeans-k:
   ``mmconr.clustering.kmeans`` against ``sklearn.cluster.KMeans``
   (k-means++, n_init=1, tol=1e-4, max_iter=300), --kmeans-seeds seeds:
   median times and mean inertias; with faiss installed, its backend
   (``kmeans(..., backend='faiss')``) too. A single run ends in a
   seed-dependent local optimum (a few % apart for either library), so the
   quality is compared on the inertia averaged over the seeds.
3. With --kmeans-large N: k-means of N x --dim features with K =
   --kmeans-large-k and --kmeans-large-iters Lloyd iterations (n_init=1,
   k-means++ on the default 'auto' sample for torch) for each backend, each
   in a fresh process: time, peak memory and inertia (e.g. ImageNet-1k:
   --kmeans-large 1281167 --kmeans-large-k 1000).

Ends with one line ``conaff_ms=… conaff_peak_mb=… kmeans_s=… inertia_ratio=…``
for B = 4096, k/k1/k2 = 10/10/2 and the largest K (and
``faiss_kmeans_s=… faiss_inertia_ratio=…`` where faiss is installed).
"""
import argparse
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import torch
from bench_utils import (get_device, machine_line, median, peak_memory_mb,
                         synchronize, time_calls)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        default=[256, 1024, 4096, 8192])
    parser.add_argument('--configs', nargs='+', default=['10/10/2',
                                                         '20/30/10'],
                        help='k/k1/k2 triples')
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--dense-max', type=int, default=4096,
                        help='largest B for which the dense reference is '
                        'timed too')
    parser.add_argument('--kmeans-samples', type=int, default=60000)
    parser.add_argument('--kmeans-k', type=int, nargs='+',
                        default=[10, 20, 200])
    parser.add_argument('--kmeans-seeds', type=int, default=10)
    parser.add_argument('--kmeans-large', type=int, default=0,
                        help='N of the large k-means (0: skip)')
    parser.add_argument('--kmeans-large-k', type=int, default=1000)
    parser.add_argument('--kmeans-large-iters', type=int, default=10)
    parser.add_argument('--skip-neighbors', action='store_true')
    parser.add_argument('--skip-kmeans', action='store_true')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_config(text: str):
    try:
        k, k1, k2 = (int(v) for v in text.split('/'))
    except ValueError:
        raise ValueError(f'--configs entries must look like 10/10/2, got '
                         f'{text!r}') from None
    return k, k1, k2


# ------------------------------------------------------------ neighbours
def child_neighbors(spec: dict) -> dict:
    """One measurement in this (fresh) process."""
    from mmconr.models.neighborhoods import conaff_neighbors
    device = get_device(spec['device'])
    torch.manual_seed(0)
    feats = torch.nn.functional.normalize(
        torch.randn(spec['batch'], spec['dim'], device=device), dim=1)

    def call():
        return conaff_neighbors(feats, spec['k'], spec['k1'], spec['k2'],
                                method=spec['method'])

    peak = peak_memory_mb(call, device)
    times = time_calls(call, device, spec['repeats'], warmup=0)
    return dict(spec, ms=1000 * median(times), peak_mb=peak)


def run_child(spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--child',
         json.dumps(spec)],
        capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'measurement {spec} failed:\n'
                           f'{proc.stderr[-2000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_neighbors(args) -> list:
    rows = []
    print('| k/k1/k2 | B | method | time (ms) | peak memory (MiB) |')
    print('| --- | --- | --- | --- | --- |')
    for text in args.configs:
        k, k1, k2 = parse_config(text)
        for batch in args.batch_sizes:
            methods = ['auto'] + (['dense']
                                  if batch <= args.dense_max else [])
            for method in methods:
                spec = dict(device=args.device, batch=batch, dim=args.dim,
                            k=k, k1=k1, k2=k2, method=method,
                            repeats=args.repeats)
                row = run_child(spec)
                rows.append(row)
                print(f'| {text} | {batch} | {method} | {row["ms"]:.1f} | '
                      f'{row["peak_mb"]:.0f} |', flush=True)
    return rows


# ---------------------------------------------------------------- k-means
def mixture(n: int, dim: int, k: int, seed: int = 0) -> np.ndarray:
    """L2-normalised Gaussian mixture: K centres N(0, I), unit noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim)).astype(np.float32)
    x = centres[rng.integers(0, k, n)]
    x += rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def inertia(x: np.ndarray, centroids: np.ndarray, labels: np.ndarray):
    return float(((x - centroids[labels])**2).sum(dtype=np.float64))


def bench_kmeans(args) -> list:
    import time

    from sklearn.cluster import KMeans

    from mmconr.clustering import kmeans
    from mmconr.clustering.faiss_backend import faiss_available
    device = get_device(args.device)
    with_faiss = faiss_available()
    rows = []
    header = ('| K | sklearn (s) | mmconr (s) | speed-up | sklearn inertia | '
              'mmconr inertia | ratio |')
    if with_faiss:
        header += ' faiss (s) | faiss inertia | faiss ratio |'
    print(header)
    print('|' + ' --- |' * (header.count('|') - 1))
    for k in args.kmeans_k:
        x = mixture(args.kmeans_samples, args.dim, k)
        xt = torch.from_numpy(x).to(device)
        res = dict(sk_s=[], sk_inertia=[], ours_s=[], ours_inertia=[],
                   faiss_s=[], faiss_inertia=[])
        kmeans(xt[:1000], k, seed=0)  # warm-up
        backends = [('ours', 'torch')] + ([('faiss', 'faiss')]
                                          if with_faiss else [])
        for seed in range(args.kmeans_seeds):
            start = time.perf_counter()
            km = KMeans(k, n_init=1, random_state=seed).fit(x)
            res['sk_s'].append(time.perf_counter() - start)
            res['sk_inertia'].append(float(km.inertia_))
            for key, backend in backends:
                start = time.perf_counter()
                centroids, labels = kmeans(
                    xt, k, seed=seed, spherical=False, max_iter=300,
                    tol=1e-4, backend=backend)
                res[f'{key}_s'].append(time.perf_counter() - start)
                res[f'{key}_inertia'].append(
                    inertia(x, centroids.numpy(), labels.numpy()))
        row = dict(k=k, sk_s=median(res['sk_s']),
                   sk_inertia=float(np.mean(res['sk_inertia'])))
        for key, _ in backends:
            row[f'{key}_s'] = median(res[f'{key}_s'])
            row[f'{key}_inertia'] = float(np.mean(res[f'{key}_inertia']))
            row[f'{key}_ratio'] = row[f'{key}_inertia'] / row['sk_inertia']
        row['ratio'] = row['ours_ratio']
        rows.append(row)
        line = (f'| {k} | {row["sk_s"]:.2f} | {row["ours_s"]:.2f} | '
                f'{row["sk_s"] / row["ours_s"]:.1f}x | '
                f'{row["sk_inertia"]:.1f} | {row["ours_inertia"]:.1f} | '
                f'{row["ratio"]:.4f} |')
        if with_faiss:
            line += (f' {row["faiss_s"]:.2f} | {row["faiss_inertia"]:.1f} | '
                     f'{row["faiss_ratio"]:.4f} |')
        print(line, flush=True)
    return rows


def child_kmeans(spec: dict) -> dict:
    """One large k-means in this (fresh) process: data, then the run."""
    import time

    from mmconr.clustering import kmeans
    device = get_device(spec['device'])
    x = mixture(spec['n'], spec['dim'], spec['k'])
    xt = torch.from_numpy(x).to(device)
    out = {}

    def call():
        start = time.perf_counter()
        out['centroids'], out['labels'] = kmeans(
            xt, spec['k'], seed=0, spherical=False,
            max_iter=spec['iters'], tol=0.0, backend=spec['backend'])
        synchronize(device)
        out['s'] = time.perf_counter() - start

    peak = peak_memory_mb(call, device)
    return dict(spec, s=out['s'], peak_mb=peak,
                inertia=inertia(x, out['centroids'].numpy(),
                                out['labels'].numpy()))


def bench_kmeans_large(args) -> list:
    from mmconr.clustering.faiss_backend import faiss_available
    backends = ['torch'] + (['faiss'] if faiss_available() else [])
    print('| backend | N | K | iterations | time (s) | s / iteration | '
          'peak memory (MiB) | inertia |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- |')
    rows = []
    for backend in backends:
        row = run_child(dict(kind='kmeans', device=args.device,
                             n=args.kmeans_large, dim=args.dim,
                             k=args.kmeans_large_k,
                             iters=args.kmeans_large_iters,
                             backend=backend))
        rows.append(row)
        print(f'| {backend} | {row["n"]} | {row["k"]} | {row["iters"]} | '
              f'{row["s"]:.1f} | {row["s"] / row["iters"]:.2f} | '
              f'{row["peak_mb"]:.0f} | {row["inertia"]:.1f} |', flush=True)
    return rows


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        child = child_kmeans if spec.get('kind') == 'kmeans' else \
            child_neighbors
        print(json.dumps(child(spec)))
        return
    device = get_device(args.device)
    print(machine_line(device))
    summary = {}
    if not args.skip_neighbors:
        rows = bench_neighbors(args)
        ref = [r for r in rows if (r['k'], r['k1'], r['k2']) == (10, 10, 2)
               and r['batch'] == 4096 and r['method'] == 'auto']
        if ref:
            summary['conaff_ms'] = f'{ref[0]["ms"]:.1f}'
            summary['conaff_peak_mb'] = f'{ref[0]["peak_mb"]:.0f}'
    if not args.skip_kmeans:
        rows = bench_kmeans(args)
        summary['kmeans_s'] = f'{rows[-1]["ours_s"]:.2f}'
        summary['inertia_ratio'] = f'{rows[-1]["ratio"]:.4f}'
        if 'faiss_s' in rows[-1]:
            summary['faiss_kmeans_s'] = f'{rows[-1]["faiss_s"]:.2f}'
            summary['faiss_inertia_ratio'] = f'{rows[-1]["faiss_ratio"]:.4f}'
        if args.kmeans_large:
            bench_kmeans_large(args)
    print(' '.join(f'{k}={v}' for k, v in summary.items()))


if __name__ == '__main__':
    main()
