"""Top-k Euclidean and ConAff neighbours of chosen query images, side by
side, neighbours of another class framed red (paper Fig. 1b / Fig. 5):

    python tools/analysis_tools/visualize_neighbors.py CONFIG CHECKPOINT \
        --out neighbors.png [--queries 3 141 592 | --num-queries 6] [--k 10]

Each query is put in a batch of the training batch size with random other
samples of the training set (ConAff is defined on a batch), and its
neighbours are retrieved among them from the target features.
"""
import argparse

import numpy as np
from mmengine.config import DictAction
from mmengine.utils import track_iter_progress

from mmconr.apis import embed_dataset, neighborhood_args, query_neighbors
from mmconr.visualization import dataset_image, neighbors_figure


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--queries', type=int, nargs='+',
                        help='dataset indices of the queries')
    parser.add_argument('--num-queries', type=int, default=6,
                        help='random queries when --queries is not given')
    parser.add_argument('--k', type=int, default=10)
    parser.add_argument('--batch-size', type=int, help='default: the '
                        "config's train_dataloader.batch_size")
    parser.add_argument('--k1', type=int, help="default: the model's")
    parser.add_argument('--k2', type=int, help="default: the model's")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device')
    parser.add_argument('--workers', type=int)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model, dataset, feats, labels = embed_dataset(
        args.config, args.checkpoint, args.device, args.workers,
        args.cfg_options)
    n = feats.shape[0]
    queries = args.queries
    if queries is None:
        rng = np.random.default_rng(args.seed)
        queries = rng.choice(n, min(args.num_queries, n), replace=False)
    batch_size = args.batch_size or model.cfg.train_dataloader.batch_size
    nbr = neighborhood_args(model)
    nbr.update({k: v for k, v in (('k1', args.k1), ('k2', args.k2)) if v})
    found = query_neighbors(feats, queries, batch_size, args.k,
                            seed=args.seed, **nbr)
    classes = dataset.metainfo.get('classes') or ()
    labels = labels.tolist()

    def name(label):
        return classes[label] if 0 <= label < len(classes) else str(label)

    rows, wrong = [], {}
    for item in track_iter_progress(found):
        q = item['query']
        panels = []
        for title, key in (('Euclidean', 'euclidean'), ('ConAff', 'conaff')):
            idx = item[key].tolist()
            same = [None if labels[q] < 0 or labels[j] < 0 else
                    labels[j] == labels[q] for j in idx]
            wrong[key] = wrong.get(key, 0) + sum(s is False for s in same)
            panels.append((f'{title} top-{args.k}',
                           [dataset_image(dataset, j) for j in idx], same))
        rows.append(dict(query=dataset_image(dataset, q),
                         label=name(labels[q]), panels=panels))
    title = (f'queries {", ".join(map(str, map(int, queries)))} in batches '
             f'of {batch_size}; red frame: another class than the query')
    neighbors_figure(rows, args.out, title=title)
    print(f'wrong-class neighbours: Euclidean {wrong.get("euclidean", 0)}, '
          f'ConAff {wrong.get("conaff", 0)} of {len(found) * args.k}')
    print(f'written {args.out}')
    return found


if __name__ == '__main__':
    main()
