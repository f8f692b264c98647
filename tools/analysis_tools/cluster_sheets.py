"""Cluster a config's dataset with a checkpoint and write what a person
looks at (as tools/cluster_images.py does for a folder):

    python tools/analysis_tools/cluster_sheets.py CONFIG CHECKPOINT \
        --out-dir DIR [--num-clusters K] [--per-sheet 64]

Writes DIR/assignments.csv (sample_idx, cluster, distance to centroid,
boundary ratio, label), DIR/clusters/cluster_XX.png (most central first),
DIR/report/index.html (a page to browse them) and DIR/summary.json (sizes,
NMI/ACC/ARI where labelled). k-means uses the
config's test_evaluator settings, so the clusters are those of tools/test.py.
"""
import argparse

from mmengine.config import DictAction

from mmconr.apis import (cluster_features, cluster_report, embed_dataset,
                         format_summary)
from mmconr.visualization import dataset_image


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--num-clusters', type=int,
                        help="default: the config's num_clusters")
    parser.add_argument('--per-sheet', type=int, default=64)
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model, dataset, feats, labels = embed_dataset(
        args.config, args.checkpoint, args.device, args.workers,
        args.cfg_options)
    cfg = model.cfg
    num_clusters = args.num_clusters or cfg.get('num_clusters')
    if num_clusters is None:
        raise KeyError('the config has no num_clusters; pass --num-clusters')
    clustering = cluster_features(
        feats, num_clusters, (cfg.get('test_evaluator') or {}).get(
            'kmeans_cfg'))
    summary = cluster_report(
        args.out_dir, list(range(len(dataset))), clustering,
        lambda i: dataset_image(dataset, i), id_column='sample_idx',
        gt_labels=labels.tolist(), per_sheet=args.per_sheet,
        extra=dict(config=args.config, checkpoint=args.checkpoint))
    print('\n'.join(format_summary(summary)))
    print(f'written to {args.out_dir}: assignments.csv, clusters/, '
          'report/index.html, summary.json')
    return summary


if __name__ == '__main__':
    main()
