"""Whole-epoch time of ConNR vs plain BYOL (mmpretrain's ``BYOL``).

    python tools/analysis_tools/benchmark_epoch.py CONFIG [--device cpu|cuda]
        [--epochs N] [--rounds N] [--synthetic N] [--num-workers N]
        [--kmeans-interval N] [--features test_pass|train_views]
        [--cfg-options KEY=VALUE ...]

Both runs use mmengine's Runner on the same data in the same process:

* ConNR: CONFIG with its hooks moved to start at epoch 0, so every epoch is
  a group-aware epoch: BoundaryFilterHook's feature pass over the whole
  training set and k-means before it, then the group-aware iterations
  (``--features train_views``: from the second epoch on the k-means
  clusters the training steps' own target projections, no feature pass).
* BYOL: the same backbone, neck, predictor, data, optimizer and schedule as
  ``type='BYOL'`` with mmpretrain's ``LatentPredictHead`` and no hooks.

Validation and checkpoints are off. Each run trains ``--warmup-epochs``
(default 1: worker start-up, allocator warm-up) + ``--epochs`` epochs and
only the latter are counted.
``--rounds`` alternates BYOL and ConNR runs so that a busy machine slows
both alike; the medians over rounds of each run's mean counted epoch are
compared (a mean, so that with ``--kmeans-interval N`` and a multiple of N
counted epochs the reused features are amortised). ``--synthetic N``
replaces the dataset by N random images of the config's size (a
CIFAR-10-sized run: 60000).

Ends with one line ``byol_s=… conr_s=… ratio=…``.
"""
import argparse
import copy
import os.path as osp
import tempfile
import time

import numpy as np
from bench_utils import get_device, machine_line, median
from benchmark_step import find_img_size
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook

from mmconr.registry import DATASETS
from mmconr.utils.config import hook_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--epochs', type=int, default=2,
                        help='counted epochs per run')
    parser.add_argument('--warmup-epochs', type=int, default=1,
                        help='uncounted first epochs per run')
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--synthetic', type=int,
                        help='N random images instead of the dataset')
    parser.add_argument('--num-workers', type=int,
                        help='workers of the train and feature dataloaders')
    parser.add_argument('--kmeans-interval', type=int,
                        help="BoundaryFilterHook's interval (default: the "
                        "config's)")
    parser.add_argument('--features', choices=['test_pass', 'train_views'],
                        help="BoundaryFilterHook's features (default: the "
                        "config's): 'train_views' skips the feature pass "
                        'after the first epoch')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


@DATASETS.register_module(force=True)
class SyntheticImages:
    """N random uint8 (H, W, 3) images with labels, in memory."""

    def __init__(self, num_samples: int, img_size: int, num_classes: int,
                 pipeline, seed: int = 0, **kwargs) -> None:
        from mmengine.dataset import Compose
        rng = np.random.default_rng(seed)
        self.images = rng.integers(
            0, 256, (num_samples, img_size, img_size, 3), dtype=np.uint8)
        self.labels = rng.integers(0, num_classes, num_samples)
        self.pipeline = Compose(pipeline)
        self.metainfo = dict(classes=tuple(map(str, range(num_classes))))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, idx: int) -> dict:
        return self.pipeline(
            dict(img=self.images[idx], gt_label=int(self.labels[idx]),
                 sample_idx=idx))


class EpochClock:
    """Timestamps of epoch start, end of the pre-epoch hooks, epoch end."""

    def __init__(self) -> None:
        self.starts, self.ready, self.ends = [], [], []


def clock_hooks(clock: EpochClock):

    class Start(Hook):
        priority = 'HIGHEST'

        def before_train_epoch(self, runner):
            clock.starts.append(time.perf_counter())

    class Ready(Hook):
        priority = 'VERY_LOW'  # after BoundaryFilterHook (NORMAL)

        def before_train_epoch(self, runner):
            clock.ready.append(time.perf_counter())

    class End(Hook):
        priority = 'LOWEST'

        def after_train_epoch(self, runner):
            clock.ends.append(time.perf_counter())

    return [Start(), Ready(), End()]


def common_cfg(cfg: Config, args, work_dir: str) -> Config:
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.train_cfg = dict(type='EpochBasedTrainLoop',
                         max_epochs=args.warmup_epochs + args.epochs,
                         val_interval=10**6)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[])
    cfg.log_level = 'WARNING'
    if args.device == 'cpu':
        cfg.setdefault('env_cfg', {})['cudnn_benchmark'] = False
    if args.synthetic:
        img_size = find_img_size(cfg)
        for key in ('train_dataloader', 'feature_dataloader'):
            if cfg.get(key) is None:
                continue
            cfg[key].dataset = dict(
                type='SyntheticImages', num_samples=args.synthetic,
                img_size=img_size, num_classes=int(cfg.get('num_clusters',
                                                           10)),
                pipeline=cfg[key].dataset.pipeline)
    if args.num_workers is not None:
        for key in ('train_dataloader', 'feature_dataloader'):
            if cfg.get(key) is not None:
                cfg[key].num_workers = args.num_workers
                cfg[key].persistent_workers = args.num_workers > 0
    return cfg


def conr_cfg(cfg: Config, args, work_dir: str) -> Config:
    cfg = common_cfg(cfg, args, work_dir)
    hooks = []
    for hook in cfg.get('custom_hooks', []):
        # the values of the config keys the hook names, in a copy
        hook = dict(type=hook['type'], **{
            k: copy.deepcopy(hook_arg(cfg, hook, k))
            for k in hook if k != 'type'
        })
        if 'start_epoch' in hook:
            shift = hook['start_epoch']
            hook['start_epoch'] = 0
            if hook.get('end_epoch') is not None:
                hook['end_epoch'] -= shift
        if hook['type'] == 'BoundaryFilterHook' and args.kmeans_interval:
            hook['interval'] = args.kmeans_interval
        if hook['type'] == 'BoundaryFilterHook' and args.features:
            hook['features'] = args.features
        hooks.append(hook)
    if not any(h['type'] == 'BoundaryFilterHook' for h in hooks):
        raise ValueError(f'{args.config} has no BoundaryFilterHook: not a '
                         'ConNR config')
    cfg.custom_hooks = hooks
    return cfg


def byol_cfg(cfg: Config, args, work_dir: str) -> Config:
    cfg = common_cfg(cfg, args, work_dir)
    model = cfg.model
    model.type = 'mmpretrain.BYOL'
    model.pop('neighborhood', None)
    model.head.type = 'mmpretrain.LatentPredictHead'
    cfg.custom_hooks = []
    return cfg


def run_epochs(cfg: Config, name: str, warmup: int):
    """Train; (epoch seconds, pre-epoch hook seconds) of counted epochs."""
    from mmengine.runner import Runner
    clock = EpochClock()
    cfg.experiment_name = name
    runner = Runner.from_cfg(cfg)
    for hook in clock_hooks(clock):
        runner.register_hook(hook, hook.priority)
    runner.train()
    total = [e - s for s, e in zip(clock.starts, clock.ends)][warmup:]
    pre = [r - s for s, r in zip(clock.starts, clock.ready)][warmup:]
    return total, pre


def main(argv=None):
    args = parse_args(argv)
    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    device = get_device(args.device)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.epochs < 1 or args.rounds < 1 or args.warmup_epochs < 0:
        raise ValueError(f'--epochs={args.epochs} and --rounds='
                         f'{args.rounds} must be >= 1, --warmup-epochs='
                         f'{args.warmup_epochs} >= 0')
    print(machine_line(device))
    results = dict(byol=[], conr=[], conr_pre=[])
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, make in (('byol', byol_cfg), ('conr', conr_cfg)):
                run_cfg = make(cfg, args, osp.join(tmp, f'{name}{r}'))
                total, pre = run_epochs(run_cfg, f'bench_{name}_{r}',
                                        args.warmup_epochs)
                results[name].append(sum(total) / len(total))
                if name == 'conr':
                    results['conr_pre'].append(sum(pre) / len(pre))
                print(f'# round {r} {name}: epochs ' +
                      ' '.join(f'{t:.2f}' for t in total) + ' s' +
                      (' (feature pass + k-means ' +
                       ' '.join(f'{p:.2f}' for p in pre) + ' s)'
                       if name == 'conr' else ''), flush=True)
    byol_s, conr_s = median(results['byol']), median(results['conr'])
    pre_s = median(results['conr_pre'])
    print(f'# {args.config}: ConNR epoch = '
          f'{pre_s:.2f} s feature pass + k-means + '
          f'{conr_s - pre_s:.2f} s training')
    print(f'byol_s={byol_s:.2f} conr_s={conr_s:.2f} '
          f'ratio={conr_s / byol_s:.3f}')


if __name__ == '__main__':
    main()
