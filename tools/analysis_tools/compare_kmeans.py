"""mmconr's k-means against the official code's, on real data.

    python tools/analysis_tools/compare_kmeans.py [--n-init 10]
        [--max-iter 300] [--seeds 0 1 2] [--cifar DIR]

The official k-means (``torch_clustering.PyTorchKMeans(init='k-means++',
n_init=10, max_iter=300, tol=1e-4, metric='cosine')``, used by the ConNR
code for its boundary detection and evaluation) is written out here from
its description (docs/reproduction.md): cosine assignments, plain-mean
centres (a zero centre for an empty cluster), k-means++ seeding with
unsquared cosine distances as potentials, a stop when the labels do not
change or the summed cosine shift of the centres is at most tol x the mean
(unbiased) feature variance, the best state over all iterations and
restarts. mmconr's is ``mmconr.clustering.kmeans`` with the settings of
``configs/_base_/conr_stage.py``.

For the centred, L2-normalised pixels of scikit-learn's digits (1,797 x 64,
K = 10) and, with ``--cifar DIR`` (CIFAR-10 images, one folder per class,
e.g. its 10,000 test images as JPEGs), those images at 8 x 8 (192-d,
K = 10), it prints per seed
the cosine inertia (sum of 1 - cos to the cluster mean) of both, the NMI
between their labels and each one's NMI against the classes, then the
means, and as a baseline for the agreement the NMI between mmconr's labels
of consecutive seeds. The last line: ``inertia_ratio=… nmi_between=…
nmi_gt_mmconr=… nmi_gt_official=… nmi_mmconr_seeds=…`` (means over data
sets and seeds).
"""
import argparse
import math
import os
import os.path as osp
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score

from mmconr.clustering import kmeans


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n-init', type=int, default=10)
    parser.add_argument('--max-iter', type=int, default=300)
    parser.add_argument('--tol', type=float, default=1e-4)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--cifar', default=None,
                        help='CIFAR-10 images, one folder per class')
    return parser.parse_args(argv)


def cosine_distance(x, c):
    return 1 - F.normalize(x, dim=1) @ F.normalize(c, dim=1).t()


def official_plus_plus(x, k, gen):
    n = x.shape[0]
    trials = 2 + int(math.log(k))
    centres = [int(torch.randint(n, (1, ), generator=gen))]
    closest = cosine_distance(x, x[centres]).min(dim=1).values.double()
    potential = closest.sum()
    for _ in range(1, k):
        rand = torch.rand(trials, generator=gen, dtype=torch.float64)
        cand = torch.searchsorted(closest.cumsum(0), rand * potential)
        cand = cand.clamp(max=n - 1)
        dist = torch.minimum(closest[None],
                             cosine_distance(x[cand], x).double())
        best = int(dist.sum(1).argmin())
        centres.append(int(cand[best]))
        closest, potential = dist[best], dist[best].sum()
    return x[centres].clone()


def official_kmeans(x, k, n_init=10, max_iter=300, tol=1e-4, seed=0):
    """Labels and plain-mean centres of the best of ``n_init`` runs."""
    tol_abs = float(x.var(0).mean()) * tol
    best = (math.inf, None, None)
    for run in range(n_init):
        gen = torch.Generator().manual_seed(seed + run)
        state = official_plus_plus(x, k, gen)
        labels = cosine_distance(x, state).argmin(1)
        for _ in range(max_iter):
            old_state, old_labels = state, labels
            counts = torch.full((k, ), 1e-6).index_add_(
                0, labels, torch.ones(x.shape[0]))
            state = torch.zeros(k, x.shape[1]).index_add_(0, labels, x)
            state = state / counts[:, None]
            dist = cosine_distance(x, state)
            labels = dist.argmin(1)
            inertia = float(dist.gather(1, labels[:, None]).sum())
            if inertia < best[0]:
                best = (inertia, state, labels)
            if torch.equal(labels, old_labels):
                break
            shift = (1 - F.cosine_similarity(old_state, state)).sum()
            if float(shift) <= tol_abs:
                break
    return best[2], best[1]


def cosine_inertia(x, labels, k):
    total = 0.0
    for c in range(k):
        members = x[labels == c]
        if len(members):
            total += float(cosine_distance(members,
                                           members.mean(0, keepdim=True)
                                           ).sum())
    return total


def datasets(cifar_dir):
    digits = load_digits()
    yield 'digits', torch.tensor(digits.data, dtype=torch.float32), \
        digits.target
    if cifar_dir is None:
        return
    if not osp.isdir(cifar_dir):
        raise FileNotFoundError(f'--cifar {cifar_dir}: no such folder')
    from PIL import Image
    feats, labels = [], []
    for label, cls in enumerate(sorted(os.listdir(cifar_dir))):
        folder = osp.join(cifar_dir, cls)
        for name in sorted(os.listdir(folder)):
            with Image.open(osp.join(folder, name)) as img:
                small = img.convert('RGB').resize((8, 8), Image.BILINEAR)
            feats.append(np.asarray(small, dtype=np.float32).reshape(-1))
            labels.append(label)
    yield 'cifar10-test-8x8', torch.from_numpy(np.stack(feats)), \
        np.array(labels)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    ratios, between, gt_ours, gt_official, seeds = [], [], [], [], []
    print('data  seed  inertia_mmconr  inertia_official  ratio  '
          'nmi_between  nmi_gt_mmconr  nmi_gt_official  nmi_mmconr_seeds')
    for name, raw, classes in datasets(args.cifar):
        x = F.normalize(raw - raw.mean(0), dim=1)
        k = int(classes.max()) + 1
        previous = None
        for seed in args.seeds:
            # restarts seed * 1000 + r, r < n_init: disjoint across seeds
            _, ours = kmeans(x, k, n_init=args.n_init,
                             max_iter=args.max_iter, tol=args.tol,
                             seed=seed * 1000, spherical=True,
                             init_size=None, centroids='mean')
            theirs, _ = official_kmeans(x, k, args.n_init, args.max_iter,
                                        args.tol, seed * 1000)
            a, b = cosine_inertia(x, ours, k), cosine_inertia(x, theirs, k)
            row = (a / b, normalized_mutual_info_score(theirs, ours),
                   normalized_mutual_info_score(classes, ours),
                   normalized_mutual_info_score(classes, theirs))
            ratios.append(row[0])
            between.append(row[1])
            gt_ours.append(row[2])
            gt_official.append(row[3])
            # agreement of mmconr with itself across seeds: the baseline
            # for nmi_between
            same = float('nan') if previous is None else \
                normalized_mutual_info_score(previous, ours)
            if previous is not None:
                seeds.append(same)
            previous = ours
            print(f'{name}  {seed}  {a:.2f}  {b:.2f}  {row[0]:.4f}  '
                  f'{row[1]:.4f}  {row[2]:.4f}  {row[3]:.4f}  {same:.4f}')
    mean = statistics.fmean
    print(f'inertia_ratio={mean(ratios):.4f} nmi_between={mean(between):.4f} '
          f'nmi_gt_mmconr={mean(gt_ours):.4f} '
          f'nmi_gt_official={mean(gt_official):.4f} '
          f'nmi_mmconr_seeds={mean(seeds) if seeds else float("nan"):.4f}')


if __name__ == '__main__':
    main()
