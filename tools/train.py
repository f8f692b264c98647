"""Train a model: python tools/train.py CONFIG [--work-dir DIR] [--resume].

Errors print as one line (``--debug``: the traceback)."""
import argparse
import os
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

from mmconr.utils import (register_all_modules, setup_launcher,
                          shutdown_distributed)
from mmconr.utils.cli import run_cli
from mmconr.utils.config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a mmconr model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint; without a path, from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the real batch size / base_batch_size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_epochs=10')
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


def merge_args(cfg, args):
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # a per-process batch given on the command line must agree with the
    # config's global_batch_size (mmconr.utils.launch.resolve_batch_size)
    batch_size = (args.cfg_options or {}).get('train_dataloader.batch_size')
    setup_launcher(cfg, args.launcher, args.config, args.work_dir,
                   batch_size=batch_size)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('train', lambda: run(args), args.debug)


def run(args) -> None:
    register_all_modules(init_default_scope=False)
    cfg = merge_args(load_config(args.config), args)
    runner = Runner.from_cfg(cfg)
    runner.train()
    shutdown_distributed()


if __name__ == '__main__':
    sys.exit(main())
