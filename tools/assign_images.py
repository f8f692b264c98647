"""Assign new images to the clusters of an earlier run, without k-means.

    python tools/assign_images.py NEW_FOLDER \
        --clustering W/clustering.safetensors --out W2 \
        [--checkpoint CKPT] [--config CFG] [--min-confidence C]

Embeds every readable image under NEW_FOLDER with the model the clustering
was made with (its checkpoint is found from the clustering file, or given
with --checkpoint, and must be that very file: its SHA-256 is checked) and
gives each the nearest centroid. Writes W2/assignments.csv with the columns
of tools/cluster_images.py (cluster -1: unassigned, its confidence
1 - boundary_ratio was below --min-confidence), W2/clusters/,
W2/report/index.html and W2/summary.json.
"""
import argparse
import sys

from mmconr.apis import ClusterModel, assign_folder, format_summary
from mmconr.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Assign the images of a folder to existing clusters')
    parser.add_argument('folder', help='folder of new images')
    parser.add_argument('--clustering', required=True,
                        help='clustering.safetensors of tools/'
                        'cluster_images.py (or of tools/test.py --out with '
                        'a folder config)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--checkpoint', help='the checkpoint the clustering '
                        'was made from, where it has moved')
    parser.add_argument('--config', help='the config the clustering was made '
                        'with (default: the one saved in the clustering)')
    parser.add_argument('--min-confidence', type=float, default=0.0,
                        help='images with a lower confidence (1 - boundary '
                        'ratio, in [0, 1]) are unassigned (cluster -1)')
    parser.add_argument('--workers', type=int,
                        help='dataloader workers')
    parser.add_argument('--max-images', type=int,
                        help='a random subset of this many image files')
    parser.add_argument('--labels-from-subfolders', action='store_true',
                        help='the first folder level names classes: adds '
                        'a label column, NMI/ACC/ARI and a confusion matrix')
    parser.add_argument('--per-sheet', type=int, default=64,
                        help='images per contact sheet (default 64)')
    parser.add_argument('--device', help="e.g. 'cpu' or 'cuda:0'")
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def run(args) -> None:
    model = ClusterModel.load(args.clustering, checkpoint=args.checkpoint,
                              config=args.config, device=args.device)
    result = assign_folder(
        model, args.folder, args.out, min_confidence=args.min_confidence,
        num_workers=args.workers, max_images=args.max_images,
        labels_from='subfolder' if args.labels_from_subfolders else 'none',
        per_sheet=args.per_sheet)
    print('\n'.join(format_summary(result.summary)))
    print(f'written to {args.out}: assignments.csv, clusters/, '
          'report/index.html, summary.json')


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('assign_images', lambda: run(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
