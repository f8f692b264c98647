"""Worker of the official-recipe parity test (tests/test_engine/
test_official_parity.py).

Trains ``configs/conr/byol_conr_cifar10.py`` -- the full official recipe --
with its backbone and data swapped for tiny ones (16 digits images, one
iteration per epoch, deterministic views, an unshuffled sampler), and
records the state at and after chosen iterations::

    python tests/parity_worker.py full NORM OUT          # 1 process, 802 its
    python -m torch.distributed.run --nproc_per_node N \\
        tests/parity_worker.py segments NORM OUT CKPT_DIR

``full`` runs iterations 0..801 (warm-up start, epoch 60, the stage switch
at 800) and saves checkpoints at epochs 60 and 798; ``segments`` runs three
short pieces on N processes: from the start, and resumed from the two
checkpoints.
"""
import argparse
import os
import os.path as osp
import sys

import torch
import torch.distributed as torch_dist

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CONFIG = osp.join(ROOT, 'configs/conr/byol_conr_cifar10.py')
GLOBAL_BATCH = 16
BN_GROUP = 4  # B / 4: plain BN on 4 processes, ghost groups on 1 and 2
NORMS = dict(bn=dict(type='GroupBN', group_size=BN_GROUP,
                     running_stats='first_group'),
             gn=dict(type='GN', num_groups=1))
# (first iteration recorded, iterations run) of each segment; the epochs of
# the two checkpoints are the starts of the last two
SEGMENTS = ((0, 3), (60, 3), (798, 4))
CHECKPOINT_EPOCHS = (60, 798)


class StopTraining(Exception):
    pass


def register_tiny_backbone():
    """Two conv-norm-ReLU layers: cheap enough for 800 iterations."""
    from mmcv.cnn import build_norm_layer
    from mmengine.model import BaseModule
    from torch import nn

    from mmconr.registry import MODELS

    @MODELS.register_module(force=True)
    class TinyConvNet(BaseModule):

        def __init__(self, norm_cfg, channels=8):
            # re-initialised by init_weights() after the target was copied
            # from it, as mmpretrain's ResNets
            super().__init__(init_cfg=dict(type='Kaiming', layer='Conv2d'))
            layers = []
            for c_in in (3, channels):
                layers += [nn.Conv2d(c_in, channels, 3, padding=1),
                           build_norm_layer(norm_cfg, channels)[1],
                           nn.ReLU()]
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            return (self.layers(x), )


def tiny_cfg(norm: str, work_dir: str, world: int):
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    norm_cfg = NORMS[norm]
    cfg.model.data_preprocessor = dict(
        type='SelfSupDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
        to_rgb=False)
    cfg.model.backbone = dict(type='TinyConvNet', norm_cfg=norm_cfg)
    cfg.model.neck.update(in_channels=8, hid_channels=16, out_channels=8)
    cfg.model.head.predictor.update(in_channels=8, hid_channels=16,
                                    out_channels=8)
    # assignment, not update(): a merge would keep GroupBN's group_size
    cfg.model.neck.norm_cfg = norm_cfg
    cfg.model.head.predictor.norm_cfg = norm_cfg
    cfg.model.neighborhood = dict(type='ConAffNeighborhood', k=4, k1=5, k2=2)
    views = [
        dict(type='MultiView', num_views=[1, 1],
             transforms=[[], [dict(type='RandomFlip', prob=1.0,
                                   direction='horizontal')]]),
        dict(type='PackInputs'),
    ]
    cfg.stage2_train_pipeline = views
    cfg.global_batch_size = GLOBAL_BATCH
    cfg.train_dataloader = dict(
        batch_size=GLOBAL_BATCH // world, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False), drop_last=True,
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='Digits', scale=1, indices=GLOBAL_BATCH,
                     pipeline=views))
    cfg.feature_dataloader = dict(
        batch_size=8, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='Digits', scale=1, indices=GLOBAL_BATCH,
                     pipeline=[dict(type='PackInputs')]))
    for hook in cfg.custom_hooks:
        if hook.type == 'BoundaryFilterHook':
            hook.dataloader = cfg.feature_dataloader
            hook.num_clusters = 3
            hook.match_classes = False
    # basic_template.py: learning_rate * (total_batch_size / 256)
    cfg.optim_wrapper.optimizer.lr = 0.05 * (GLOBAL_BATCH / 256)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg.val_interval = 10**6
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**6, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10**6)
    cfg.visualizer.vis_backends = []
    cfg.log_level = 'WARNING'
    cfg.work_dir = work_dir
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def snapshot(runner) -> dict:
    """Parameters (online and target), momentum buffers and the boundary
    state, by name, on the CPU."""
    from mmengine.model import is_model_wrapper
    model = runner.model.module if is_model_wrapper(runner.model) else \
        runner.model
    optimizer = runner.optim_wrapper.optimizer
    group_lr = {id(p): g['lr'] for g in optimizer.param_groups
                for p in g['params']}
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    momentum, lr = {}, {}
    for name, p in model.named_parameters():
        buf = optimizer.state.get(p, {}).get('momentum_buffer')
        if buf is not None:
            momentum[name] = buf.clone()
        if p.requires_grad:
            lr[name] = group_lr[id(p)]
    return dict(
        iter=runner.iter, params=params, momentum=momentum, lr=lr,
        centroids=None if model.centroids is None else
        model.centroids.clone(),
        pseudo_labels=None if model.pseudo_labels is None else
        model.pseudo_labels.clone(),
        keep_fraction=model.keep_fraction,
        group_stage=model.group_stage)


def build_probe(segments, out: list, save_epochs=(), save_dir=None):
    """Record, for each (first, count) of ``segments``, the state before
    iteration ``first`` and after each of its ``count`` iterations; stop
    after the last."""
    from mmengine.hooks import Hook
    stop = max(first + count for first, count in segments)

    class ParityProbe(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            for i, (first, _) in enumerate(segments):
                if runner.iter == first:
                    out[i]['start'] = snapshot(runner)

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            for i, (first, count) in enumerate(segments):
                if first <= runner.iter < first + count:
                    out[i]['after'].append(snapshot(runner))
            if runner.iter + 1 == stop:
                raise StopTraining

        def after_train_epoch(self, runner):
            if runner.epoch + 1 in save_epochs:
                runner.save_checkpoint(save_dir,
                                       f'epoch_{runner.epoch + 1}.pth')

    return ParityProbe()


def run(norm: str, work_dir: str, segments, world: int, launcher: str,
        resume_from=None, save_epochs=(), save_dir=None) -> list:
    from mmengine.runner import Runner

    from mmconr.utils import setup_launcher
    cfg = tiny_cfg(norm, work_dir, world)
    if resume_from is not None:
        cfg.resume = True
        cfg.load_from = resume_from
    setup_launcher(cfg, launcher, 'parity_worker.py', work_dir)
    runner = Runner.from_cfg(cfg)
    out = [dict(after=[]) for _ in segments]
    runner.register_hook(build_probe(segments, out, save_epochs, save_dir))
    try:
        runner.train()
    except StopTraining:
        pass
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['full', 'segments'])
    parser.add_argument('norm', choices=sorted(NORMS))
    parser.add_argument('out')
    parser.add_argument('ckpt_dir', nargs='?')
    args = parser.parse_args()
    torch.set_num_threads(1)
    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    register_tiny_backbone()
    if args.mode == 'full':
        ckpt_dir = args.ckpt_dir or osp.join(args.out, 'checkpoints')
        results = run(args.norm, osp.join(args.out, 'work'), SEGMENTS, 1,
                      'none', save_epochs=CHECKPOINT_EPOCHS,
                      save_dir=ckpt_dir)
        torch.save(results, osp.join(args.out, 'full.pth'))
        return
    torch_dist.init_process_group(backend='gloo')
    world, rank = torch_dist.get_world_size(), torch_dist.get_rank()
    results = []
    for (first, count), resume in zip(
            SEGMENTS, (None, ) + tuple(
                osp.join(args.ckpt_dir, f'epoch_{e}.pth')
                for e in CHECKPOINT_EPOCHS)):
        results += run(args.norm, osp.join(args.out, f'work_{first}'),
                       [(first, count)], world, 'pytorch',
                       resume_from=resume)
    if world == 4:  # BN groups spanning ranks, in the same process group
        from tests.dist_worker import group_bn_and_shuffle
        torch.save(group_bn_and_shuffle(),
                   osp.join(args.out, f'group_bn_rank{rank}.pth'))
    if rank == 0:
        torch.save(results, osp.join(args.out, f'segments_{world}.pth'))
    torch_dist.destroy_process_group()


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()
