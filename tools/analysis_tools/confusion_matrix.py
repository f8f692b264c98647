"""Clusters against classes: k-means on the test set's target features (as
tools/test.py), the counts of every (class, cluster) pair with the clusters
matched one-to-one to the classes (Hungarian, the matching of ACC).

    python tools/analysis_tools/confusion_matrix.py CONFIG CHECKPOINT \
        [--out-dir DIR] [--num-clusters K] [--device cpu]

Writes DIR/confusion.png (heat map, counts in the cells) and
DIR/confusion.csv (one row per class, one column per cluster in matched
order) and prints ACC, the matched share of the samples.
"""
import argparse
import csv
import os.path as osp
import sys

from mmengine.config import DictAction

from mmconr.apis import (build_dataloader, cluster_features, extract_features,
                         init_model)
from mmconr.evaluation import matched_confusion
from mmconr.utils.cli import run_cli
from mmconr.utils.io import atomic_open
from mmconr.visualization import confusion_figure


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', default='.', help='output folder')
    parser.add_argument('--num-clusters', type=int,
                        help="default: the config's num_clusters")
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def confusion(args) -> dict:
    model = init_model(args.config, args.checkpoint, args.device,
                       args.cfg_options)
    cfg = model.cfg
    loader = build_dataloader(cfg, 'test_dataloader', args.workers)
    num_clusters = args.num_clusters or cfg.get('num_clusters')
    if num_clusters is None:
        raise KeyError('the config has no num_clusters; pass --num-clusters')
    feats, labels = extract_features(model, loader)
    if not (labels >= 0).any():
        raise ValueError('the test set has no labels; a confusion matrix '
                         'needs them')
    clustering = cluster_features(
        feats, num_clusters, (cfg.get('test_evaluator') or {}).get(
            'kmeans_cfg'))
    matrix, classes, order, matched = matched_confusion(
        labels, clustering.labels)
    names = list(loader.dataset.metainfo.get('classes') or [])
    row_names = [names[c] if c < len(names) else str(c) for c in classes]
    columns = (matched >= 0).nonzero()[0]
    acc = float(matrix[matched[columns], columns].sum()) / matrix.sum()
    csv_file = osp.join(args.out_dir, 'confusion.csv')
    with atomic_open(csv_file, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['class'] + [f'cluster {c}' for c in order])
        for name, row in zip(row_names, matrix.tolist()):
            writer.writerow([name] + row)
    png = confusion_figure(
        matrix, row_names, order.tolist(),
        osp.join(args.out_dir, 'confusion.png'),
        title=f'{osp.basename(args.config)}: ACC={100 * acc:.1f}')
    print(f'ACC={100 * acc:.1f} over {int(matrix.sum())} labelled samples')
    print(f'written to {png} and {csv_file}')
    return dict(matrix=matrix, classes=classes, clusters=order, acc=acc,
                labels=labels, assignments=clustering.labels)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('confusion_matrix', lambda: confusion(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
