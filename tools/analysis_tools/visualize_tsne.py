"""t-SNE of the target features with the boundary samples drawn small
(paper Fig. 4), coloured by ground truth or by cluster:

    python tools/analysis_tools/visualize_tsne.py CONFIG CHECKPOINT \
        --out tsne.png [--color-by gt|cluster] [--max-samples 3000]

k-means (K = the config's num_clusters) on the features of the whole
training set gives centroids and each sample's boundary ratio (Eq. 9-11);
boundary samples are those Eq. 13 would filter out with the config's
BoundaryFilterHook start_fraction (fr0, default 0.8) if the whole set were
one batch. t-SNE (scikit-learn) runs on a random subset of --max-samples.
"""
import argparse

import numpy as np
from mmengine.config import DictAction

from mmconr.apis import boundary_mask, cluster_features, embed_dataset
from mmconr.utils.config import find_hook, hook_arg
from mmconr.visualization import tsne_figure


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--color-by', choices=['gt', 'cluster'], default='gt')
    parser.add_argument('--num-clusters', type=int,
                        help="default: the config's num_clusters")
    parser.add_argument('--fraction', type=float,
                        help='kept fraction fr0 (default: the config\'s '
                        'BoundaryFilterHook start_fraction, else 0.8)')
    parser.add_argument('--max-samples', type=int, default=3000)
    parser.add_argument('--perplexity', type=float, default=30.0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def config_fraction(cfg) -> float:
    hook = find_hook(cfg, 'BoundaryFilterHook')
    return 0.8 if hook is None else hook_arg(cfg, hook, 'start_fraction', 0.8)


def main(argv=None):
    args = parse_args(argv)
    model, dataset, feats, labels = embed_dataset(
        args.config, args.checkpoint, args.device, args.workers,
        args.cfg_options)
    cfg = model.cfg
    num_clusters = args.num_clusters or cfg.get('num_clusters')
    if num_clusters is None:
        raise KeyError('the config has no num_clusters; pass --num-clusters')
    fraction = args.fraction or config_fraction(cfg)
    clustering = cluster_features(
        feats, num_clusters, (cfg.get('test_evaluator') or {}).get(
            'kmeans_cfg'))
    boundary = boundary_mask(clustering, fraction).numpy()
    labels = labels.numpy()
    if args.color_by == 'gt':
        if not (labels >= 0).any():
            raise ValueError('the dataset has no labels; use --color-by '
                             'cluster')
        colors, names = labels, dataset.metainfo.get('classes')
    else:
        colors, names = clustering.labels.numpy(), None
    rng = np.random.default_rng(args.seed)
    n = feats.shape[0]
    subset = np.sort(rng.choice(n, min(args.max_samples, n), replace=False))
    from sklearn.manifold import TSNE
    perplexity = min(args.perplexity, (len(subset) - 1) / 3)
    embedding = TSNE(
        n_components=2, perplexity=perplexity, init='pca',
        random_state=args.seed).fit_transform(feats[subset].numpy())
    title = (f't-SNE of {len(subset)} target features, coloured by '
             f'{"ground truth" if args.color_by == "gt" else "cluster"}; '
             f'small: boundary samples (the {100 * (1 - fraction):.0f}% '
             'largest boundary ratios)')
    tsne_figure(embedding, colors[subset], boundary[subset], args.out,
                names, title)
    print(f'{int(boundary.sum())} of {n} samples are boundary samples; '
          f'written {args.out}')
    return embedding


if __name__ == '__main__':
    main()
