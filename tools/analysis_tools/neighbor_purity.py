"""Neighbourhood purity of Euclidean vs ConAff neighbourhoods as K grows
(paper Fig. 2), for a trained checkpoint:

    python tools/analysis_tools/neighbor_purity.py CONFIG CHECKPOINT \
        --out purity.png [--ks 1 5 10 20 50] [--num-batches 20]

The target features of the training set (test pipeline) are split into
random batches of the training batch size (as a shuffled epoch); within each
batch every labelled sample's K nearest neighbours (cosine = Euclidean on
normalised features) and K ConAff neighbours (the model's k1/k2) are
retrieved, and purity is the share of them in the sample's class. Writes
the PNG (mean +- std over batches, and dashed the best purity the class
sizes in a batch allow) and the numbers as JSON beside it.
"""
import argparse
import json
import os.path as osp

from mmengine.config import DictAction

from mmconr.apis import embed_dataset, neighbor_purity_curve, neighborhood_args
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
                        'batch size)')
    parser.add_argument('--batch-size', type=int, help='default: the '
                        "config's train_dataloader.batch_size")
    parser.add_argument('--num-batches', type=int, default=20)
    parser.add_argument('--k1', type=int, help="default: the model's")
    parser.add_argument('--k2', type=int, help="default: the model's")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model, _, feats, labels = embed_dataset(args.config, args.checkpoint,
                                            args.device, args.workers,
                                            args.cfg_options)
    batch_size = args.batch_size or model.cfg.train_dataloader.batch_size
    ks = args.ks or [k for k in DEFAULT_KS if k < batch_size]
    nbr = neighborhood_args(model)
    nbr.update({k: v for k, v in (('k1', args.k1), ('k2', args.k2)) if v})
    curves = neighbor_purity_curve(feats, labels, ks, batch_size,
                                   args.num_batches, seed=args.seed, **nbr)
    title = (f'{osp.basename(args.checkpoint)}: {args.num_batches} batches '
             f'of {batch_size}, ConAff k1={nbr["k1"]} k2={nbr["k2"]}')
    purity_plot(curves['ks'], dict(Euclidean=curves['euclidean'],
                                   ConAff=curves['conaff']), args.out, title,
                curves['upper_bound'])
    numbers = dict(
        ks=curves['ks'].tolist(),
        **{name: (100 * curves[name].mean(0)).round(2).tolist()
           for name in ('euclidean', 'conaff', 'upper_bound')},
        batch_size=batch_size, num_batches=args.num_batches, **nbr)
    with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(numbers, f, indent=2)
    print('K          ' + ' '.join(f'{k:>6d}' for k in numbers['ks']))
    for name in ('euclidean', 'conaff', 'upper_bound'):
        print(f'{name:<11}' + ' '.join(f'{v:6.1f}' for v in numbers[name]))
    print(f'written {args.out}')
    return numbers


if __name__ == '__main__':
    main()
