"""Neighbourhood purity of Euclidean vs ConAff neighbourhoods as K grows
(paper Fig. 2), for a trained checkpoint, at one or more batch sizes:

    python tools/analysis_tools/neighbor_purity.py CONFIG CHECKPOINT \
        --out purity.png [--batch-sizes 256 64] [--ks 1 5 10 20 50] \
        [--num-batches 100]

The target features of the training set (test pipeline) are split into
random batches of each batch size (as a shuffled epoch); within each batch
every labelled sample's K nearest neighbours (cosine = Euclidean on
normalised features) and K ConAff neighbours (the model's k1/k2) are
retrieved, and purity is the share of them in the sample's class. Writes
the PNG (a panel per batch size: the mean over batches with its 95 %
interval, and dashed the best purity the class sizes in a batch allow) and
the numbers as JSON beside it, with ConAff − Euclidean per K and its paired
95 % interval over the batches (the same batches serve both).
"""
import argparse
import json
import os.path as osp

import numpy as np
from mmengine.config import DictAction
from scipy import stats

from mmconr.apis import embed_dataset, neighbor_purity_curve, neighborhood_args
from mmconr.utils.io import atomic_open
from mmconr.visualization import purity_plot

DEFAULT_KS = (1, 5, 10, 20, 30, 40, 50, 100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--ks', type=int, nargs='+',
                        help='neighbourhood sizes (default: '
                        f'{" ".join(map(str, DEFAULT_KS))}, those below the '
                        'smallest batch size)')
    parser.add_argument('--batch-sizes', type=int, nargs='+',
                        help="default: the config's "
                        'train_dataloader.batch_size')
    parser.add_argument('--num-batches', type=int, default=100)
    parser.add_argument('--k1', type=int, help="default: the model's")
    parser.add_argument('--k2', type=int, help="default: the model's")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def interval(values: np.ndarray, confidence: float = 0.95) -> dict:
    """Per column of ``values`` (batches x K, percent): the mean and its
    t interval over the batches."""
    n = values.shape[0]
    mean = values.mean(0)
    half = (stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(0, ddof=1)
            / np.sqrt(n)) if n > 1 else np.full_like(mean, np.nan)
    return dict(mean=mean.round(2).tolist(),
                low=(mean - half).round(2).tolist(),
                high=(mean + half).round(2).tolist())


def purity_at(feats, labels, ks, batch_size, num_batches, seed, nbr) -> dict:
    """The curves at one batch size, as percentages with intervals."""
    curves = neighbor_purity_curve(feats, labels, ks, batch_size,
                                   num_batches, seed=seed, **nbr)
    percent = {name: 100 * curves[name]
               for name in ('euclidean', 'conaff', 'upper_bound')}
    return dict(
        batch_size=batch_size, ks=curves['ks'].tolist(),
        **{name: interval(v) for name, v in percent.items()},
        conaff_minus_euclidean=interval(percent['conaff'] -
                                        percent['euclidean']),
        curves=percent)


def main(argv=None):
    args = parse_args(argv)
    if args.num_batches < 2:
        raise SystemExit('neighbor_purity: --num-batches must be at least 2 '
                         'for an interval')
    if args.batch_sizes and args.ks and max(args.ks) >= min(args.batch_sizes):
        raise SystemExit(f'neighbor_purity: K={max(args.ks)} needs batches '
                         f'of more than {max(args.ks)} samples; the smallest '
                         f'of --batch-sizes is {min(args.batch_sizes)}')
    model, _, feats, labels = embed_dataset(args.config, args.checkpoint,
                                            args.device, args.workers,
                                            args.cfg_options)
    batch_sizes = args.batch_sizes or [model.cfg.train_dataloader.batch_size]
    ks = args.ks or [k for k in DEFAULT_KS if k < min(batch_sizes)]
    nbr = neighborhood_args(model)
    nbr.update({k: v for k, v in (('k1', args.k1), ('k2', args.k2)) if v})
    runs = [purity_at(feats, labels, ks, b, args.num_batches, args.seed, nbr)
            for b in batch_sizes]
    purity_plot(
        [dict(ks=r['ks'], title=f'batches of {r["batch_size"]}',
              curves=dict(Euclidean=r['curves']['euclidean'],
                          ConAff=r['curves']['conaff']),
              upper_bound=r['curves']['upper_bound']) for r in runs],
        args.out, f'{osp.basename(args.checkpoint)}: {args.num_batches} '
        f'batches each, ConAff k1={nbr["k1"]} k2={nbr["k2"]}; mean and 95 % '
        'interval')
    for run in runs:
        del run['curves']
    numbers = dict(num_batches=args.num_batches, seed=args.seed, **nbr,
                   runs=runs)
    with atomic_open(osp.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(numbers, f, indent=2)
    for run in runs:
        print(f'batches of {run["batch_size"]}:')
        print('K             ' + ' '.join(f'{k:>6d}' for k in run['ks']))
        for name in ('euclidean', 'conaff', 'upper_bound'):
            print(f'{name:<14}' + ' '.join(f'{v:6.1f}'
                                           for v in run[name]['mean']))
        gain = run['conaff_minus_euclidean']
        print('ConAff - Eucl. ' + ' '.join(
            f'{m:+.1f} [{lo:+.1f}, {hi:+.1f}]'
            for m, lo, hi in zip(gain['mean'], gain['low'], gain['high'])))
    print(f'written {args.out}')
    return numbers


if __name__ == '__main__':
    main()
