"""Exact resume of the digits demo: a run killed after an epoch and
resumed with ``resume=True`` ends in the state of the uninterrupted run
(parameters, EMA target, BN statistics, optimizer, lr, centroids, pseudo
labels, kept fraction)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmconr.registry import HOOKS
from tests.tiny_runs import train

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONR = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')
BYOL = osp.join(ROOT, 'configs/demo/byol_digits.py')
MAX_EPOCHS = 5
T0 = 2  # group-aware epochs 2, 3, 4; fraction 0.8 -> 1 at epoch 4


class Preempted(Exception):
    pass


@HOOKS.register_module(force=True)
class PreemptAfterEpoch(Hook):
    """Kills the run after ``epoch`` (0-based), once its checkpoint is
    written (the checkpoint hook has priority VERY_LOW)."""
    priority = 'LOWEST'

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch == self.epoch:
            raise Preempted(runner.epoch)


def demo_cfg(path, work_dir, preempt_after=None, resume=None):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'feature_dataloader', 'val_dataloader',
                'test_dataloader'):
        cfg[key].dataset.indices = 96
    cfg.train_dataloader.batch_size = 32
    cfg.train_cfg.max_epochs = MAX_EPOCHS  # same schedule: set in the file
    cfg.train_cfg.val_interval = 100
    for hook in cfg.custom_hooks:
        hook.start_epoch = T0
    if cfg.custom_hooks:
        cfg.custom_hooks[0].lr_mult = 0.1  # the official lr switch at t0
        cfg.custom_hooks[1].end_epoch = 4
    if preempt_after is not None:
        cfg.custom_hooks.append(
            dict(type='PreemptAfterEpoch', epoch=preempt_after))
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 100
    cfg.randomness = dict(seed=3, deterministic=True)
    cfg.work_dir = str(work_dir)
    if resume is not None:
        cfg.resume, cfg.load_from = True, resume
    return cfg


def final_state(runner):
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'BoundaryFilterHook')
    return dict(
        model=runner.model.state_dict(),
        optimizer=runner.optim_wrapper.state_dict(),
        lr=runner.optim_wrapper.get_lr()['lr'],
        boundary=hook.state)


def assert_same_state(ours, ref):
    assert ours['boundary']['epoch'] == ref['boundary']['epoch'] == 4
    assert ours['boundary']['fraction'] == ref['boundary']['fraction'] == 1.0
    assert torch.equal(ours['boundary']['pseudo_labels'],
                       ref['boundary']['pseudo_labels'])
    assert torch.equal(ours['boundary']['centroids'],
                       ref['boundary']['centroids'])
    assert ours['lr'] == ref['lr']
    model, model_ref = ours['model'], ref['model']
    assert model.keys() == model_ref.keys()
    assert any(k.startswith('target_net.') for k in model)
    for key in model_ref:
        assert torch.equal(model[key], model_ref[key]), key
    opt, opt_ref = ours['optimizer'], ref['optimizer']
    assert opt['param_groups'] == opt_ref['param_groups']
    assert opt['state'].keys() == opt_ref['state'].keys()
    for idx in opt_ref['state']:
        for name, value in opt_ref['state'][idx].items():
            assert torch.equal(opt['state'][idx][name], value), (idx, name)


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
    return final_state(train(demo_cfg(CONR,
                                      tmp_path_factory.mktemp('full'))))


@pytest.mark.parametrize('stop', [T0 - 1, T0 + 1],
                         ids=['before-group-stage', 'inside-group-stage'])
def test_resume_is_exact(uninterrupted, tmp_path, stop):
    with pytest.raises(Preempted):
        train(demo_cfg(CONR, tmp_path, preempt_after=stop))
    ckpt = tmp_path / f'epoch_{stop + 1}.pth'
    assert ckpt.exists() and not (tmp_path / f'epoch_{stop + 2}.pth').exists()
    resumed = train(demo_cfg(CONR, tmp_path, resume=str(ckpt)))
    assert_same_state(final_state(resumed), uninterrupted)


def test_resume_from_byol_warm_up(uninterrupted, tmp_path):
    """The official protocol: BYOL (InC) up to t0, then its checkpoint
    resumed into the ConNR config, equals the uninterrupted ConNR run."""
    with pytest.raises(Preempted):
        train(demo_cfg(BYOL, tmp_path, preempt_after=T0 - 1))
    resumed = train(
        demo_cfg(CONR, tmp_path, resume=str(tmp_path / f'epoch_{T0}.pth')))
    assert_same_state(final_state(resumed), uninterrupted)


def test_without_epoch_seeds_resume_differs(uninterrupted, tmp_path):
    """The check above can fail: MMEngine alone does not restore the random
    state, so the resumed augmentations (and so the weights) differ."""
    cfg = demo_cfg(CONR, tmp_path, preempt_after=T0 + 1)
    cfg.default_hooks.pop('epoch_seed')
    with pytest.raises(Preempted):
        train(cfg)
    resume = str(tmp_path / f'epoch_{T0 + 2}.pth')
    cfg = demo_cfg(CONR, tmp_path, resume=resume)
    cfg.default_hooks.pop('epoch_seed')
    ours = final_state(train(cfg))
    assert not all(
        torch.equal(ours['model'][k], v)
        for k, v in uninterrupted['model'].items())
