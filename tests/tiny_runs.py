"""Short runs of the demo config (64 digits, 3 epochs, ConNR from epoch 2)
for tests of what a run does with bad input."""
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')


def tiny_cfg(work_dir, **changes):
    cfg = Config.fromfile(DEMO)
    for key in ('train_dataloader', 'feature_dataloader', 'val_dataloader',
                'test_dataloader'):
        cfg[key].dataset.indices = 64
    cfg.train_dataloader.batch_size = 20
    cfg.train_cfg.max_epochs = 3
    cfg.train_cfg.val_interval = 100
    for hook in cfg.custom_hooks:
        hook.start_epoch = 2
    cfg.custom_hooks[1].end_epoch = 3
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 100
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(changes)
    return cfg


def train(cfg):
    torch.set_num_threads(1)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def assert_nothing_trained(work_dir):
    assert not [f for f in os.listdir(work_dir) if f.endswith('.pth')]
