"""Cluster a folder of images.

    python tools/cluster_images.py FOLDER --num-clusters K|auto --out DIR
        [--k-range 2:30] [--config CFG] [--checkpoint CKPT] [--epochs N]
        [--img-size S] [--neighbors k [k1 k2]] ...

Without --checkpoint, ConNR is trained on the folder first (default config
configs/custom/byol_conr_folder.py; logs and checkpoints in DIR/train);
with it, the images are only embedded. ``--num-clusters auto`` scores every
K of --k-range on the features (silhouette, inertia, stability across
seeds; DIR/k_selection.png and .csv) and picks one (docs/cluster_images.md
gives the rule). Writes DIR/assignments.csv (path, cluster, distance to
centroid, boundary ratio), DIR/clustering.safetensors (the centroids, for
tools/assign_images.py), DIR/clusters/cluster_XX.png (most central images
first), DIR/report/index.html (open it in a browser) and DIR/summary.json.
Files that are not images or do not decode are skipped and named.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmconr.apis import cluster_folder, format_summary
from mmconr.clustering.k_selection import parse_k_range
from mmconr.utils.cli import run_cli


def num_clusters_arg(text: str):
    if text == 'auto':
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or 'auto', got {text!r}") from None


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cluster a folder of images (nested folders, '
        'jpg/png/webp/bmp, any size)')
    parser.add_argument('folder', help='folder of images')
    parser.add_argument('--num-clusters', '-k', type=num_clusters_arg,
                        required=True,
                        help="number of clusters K, or 'auto' to choose it")
    parser.add_argument('--k-range', help="with '--num-clusters auto': the "
                        "K to try, 'MIN:MAX' (default 2:30)")
    parser.add_argument('--train-clusters', type=int,
                        help="with '--num-clusters auto' and training: K of "
                        "the training's per-epoch k-means (default 10, "
                        'brought into the range)')
    parser.add_argument('--neighbors', type=int, nargs='+',
                        metavar='SIZE', help='the neighbourhood: k, or k k1 '
                        'k2 (default: chosen from the batch and K so that '
                        'k stays within the images a batch holds of one '
                        'cluster; the paper\'s 10 10 2 at batch 512 and '
                        'K 10)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--config', help='config (default: '
                        'configs/custom/byol_conr_folder.py)')
    parser.add_argument('--checkpoint', help='trained checkpoint of that '
                        'config: embed only, no training')
    parser.add_argument('--epochs', type=int, help='train this many epochs '
                        '(the whole schedule is stretched to it)')
    parser.add_argument('--img-size', type=int,
                        help='side of the network input (default 96)')
    parser.add_argument('--batch-size', type=int, help='training batch size')
    parser.add_argument('--workers', type=int,
                        help='dataloader workers per loader')
    parser.add_argument('--max-images', type=int,
                        help='a random subset of this many image files')
    parser.add_argument('--labels-from-subfolders', action='store_true',
                        help='the first folder level names classes: adds '
                        'a label column and NMI/ACC/ARI to the summary')
    parser.add_argument('--per-sheet', type=int, default=64,
                        help='images per contact sheet (default 64)')
    parser.add_argument('--device', help="e.g. 'cpu' or 'cuda:0'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys (applied last)')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('cluster_images', lambda: run(args), args.debug)


def run(args) -> None:
    result = cluster_folder(
        args.folder,
        args.num_clusters,
        args.out,
        config=args.config,
        checkpoint=args.checkpoint,
        img_size=args.img_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        num_workers=args.workers,
        max_images=args.max_images,
        labels_from='subfolder' if args.labels_from_subfolders else 'none',
        per_sheet=args.per_sheet,
        device=args.device,
        cfg_options=args.cfg_options,
        k_range=parse_k_range(args.k_range) if args.k_range else None,
        train_clusters=args.train_clusters,
        neighbors=args.neighbors)
    print('\n'.join(format_summary(result.summary)))
    print(f'written to {args.out}: assignments.csv, clustering.safetensors, '
          'clusters/, report/index.html, summary.json')


if __name__ == '__main__':
    sys.exit(main())
