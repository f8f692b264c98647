"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--out F].

Clusters the test set's target features with k-means and prints NMI, ACC
and ARI (percent); ``--out`` writes per-sample assignments as CSV and, next
to it, ``clustering.safetensors`` (the centroids, the config and the
checkpoint's hash) for tools/assign_images.py and
``mmconr.apis.ClusterModel``. Errors print as one line (``--debug``: the
traceback).
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmconr.clustering.saved import FILE_NAME as CLUSTERING_FILE
from mmconr.clustering.saved import config_json, save_clustering
from mmconr.utils import (register_all_modules, setup_launcher,
                          shutdown_distributed)
from mmconr.utils.cli import run_cli
from mmconr.utils.config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (cluster) a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--out', help='CSV file for per-sample cluster assignments '
        '(sample_idx, gt_label, cluster)')
    parser.add_argument(
        '--name', help='label of the printed result line (default: the '
        "config's dataset_name or file name)")
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def clustering_metric(runner):
    for metric in runner.test_evaluator.metrics:
        if type(metric).__name__ == 'ClusteringMetric':
            return metric
    return None


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('test', lambda: run(args), args.debug)


def run(args) -> None:
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options)
    saved_config = None
    if args.out:
        try:  # known before the test pass: can the clustering be saved?
            config_json(cfg.to_dict())
            saved_config = cfg.to_dict()
        except TypeError as exc:
            print(f'test: warning: no clustering.safetensors will be written '
                  f'({exc})', file=sys.stderr)
    setup_launcher(cfg, args.launcher, args.config, args.work_dir,
                   training=False)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    # The training-time hooks (stage switch, per-epoch k-means) play no part
    # in testing.
    cfg.custom_hooks = []
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(
            cfg.test_evaluator, list) else [cfg.test_evaluator]
        for evaluator in evaluators:
            if evaluator.get('type') == 'ClusteringMetric':
                evaluator['out_file'] = args.out
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    metric = clustering_metric(runner)
    if saved_config is not None and is_main_process() and metric is not None:
        path = osp.join(osp.dirname(osp.abspath(args.out)), CLUSTERING_FILE)
        save_clustering(path, metric.centroids, saved_config,
                        args.checkpoint, kmeans_cfg=metric.kmeans_cfg)
        print(f'clustering saved to {path}')
    name = args.name or cfg.get('dataset_name') or osp.splitext(
        osp.basename(args.config))[0]
    scores = {k.split('/')[-1]: v for k, v in metrics.items()}
    if not is_main_process():
        pass
    elif all(key in scores for key in ('NMI', 'ACC', 'ARI')):
        print(f"{name}: NMI={scores['NMI']:.1f} ACC={scores['ACC']:.1f} "
              f"ARI={scores['ARI']:.1f}")
    else:
        print(f'{name}: {metrics}')
    shutdown_distributed()


if __name__ == '__main__':
    sys.exit(main())
