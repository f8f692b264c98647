"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--out F].

Clusters the test set's target features with k-means and prints NMI, ACC
and ARI (percent); ``--out`` writes per-sample assignments as CSV.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmconr.utils import (register_all_modules, setup_launcher,
                          shutdown_distributed)


def parse_args():
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
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
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
    main()
