"""Non-finite losses and features stop a run with the iteration and the
last good checkpoint; a checkpoint of another model lists the keys."""
import os

import pytest
import torch
from mmengine.hooks import Hook

from mmconr.registry import HOOKS
from mmconr.utils import load_checkpoint_file
from tests.tiny_runs import assert_nothing_trained, tiny_cfg, train


@HOOKS.register_module(force=True)
class PoisonParameters(Hook):
    """Sets the online backbone's first conv to NaN before an iteration
    (or the target network's after an epoch)."""
    priority = 'LOWEST'

    def __init__(self, epoch, iteration=None, target=False):
        self.epoch, self.iteration, self.target = epoch, iteration, target

    def _poison(self, runner):
        model = runner.model
        net = model.target_net.module[0] if self.target else model.backbone
        net.conv1.weight.data.fill_(float('nan'))

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if (not self.target and runner.epoch == self.epoch
                and batch_idx == self.iteration):
            self._poison(runner)

    def after_train_epoch(self, runner):
        if self.target and runner.epoch == self.epoch:
            self._poison(runner)


def load_good(path):
    ckpt = load_checkpoint_file(path, map_location='cpu')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    return ckpt


def test_nan_loss_stops_with_iteration_and_keeps_last_checkpoint(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(
        dict(type='PoisonParameters', epoch=1, iteration=1))
    with pytest.raises(FloatingPointError) as err:
        train(cfg)
    msg = str(err.value)
    assert 'non-finite loss at epoch 1 iteration 2/3 (global iteration 5)' \
        in msg
    assert 'loss=nan' in msg and 'backbone.conv1.weight' in msg
    assert 'epoch_1.pth' in msg
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) \
        == ['epoch_1.pth']
    load_good(tmp_path / 'epoch_1.pth')


def test_nan_features_in_group_stage_name_the_iteration(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(
        dict(type='PoisonParameters', epoch=2, iteration=2))
    with pytest.raises(FloatingPointError,
                       match='target features of the global batch are NaN '
                       'or inf at epoch 2 iteration 8'):
        train(cfg)
    load_good(tmp_path / 'epoch_2.pth')


def test_nan_dataset_features_stop_before_the_epoch(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(dict(type='PoisonParameters', epoch=1,
                                 target=True))
    with pytest.raises(FloatingPointError,
                       match='BoundaryFilterHook: epoch 2: the target '
                       'features of 64 of 64 samples are NaN'):
        train(cfg)


def test_checkpoint_of_another_architecture_lists_keys(tmp_path):
    other = tiny_cfg(tmp_path / 'other', **{
        'model.backbone.base_channels': 8, 'model.neck.in_channels': 64,
        'train_cfg.max_epochs': 1})
    train(other)
    cfg = tiny_cfg(tmp_path / 'ours',
                   load_from=str(tmp_path / 'other/epoch_1.pth'))
    with pytest.raises(RuntimeError) as err:
        train(cfg)
    msg = str(err.value)
    assert 'does not fit the model ConNR' in msg
    assert '192 shape: backbone.layer1.0.bn1.bias: checkpoint (8,) vs ' \
        'model (16,)' in msg
    assert '12 unexpected: backbone.layer1.0.downsample' in msg
    assert_nothing_trained(tmp_path / 'ours')
    # a checkpoint with keys of another model
    torch.save({'state_dict': {'encoder.fc.weight': torch.zeros(2, 2)}},
               tmp_path / 'foreign.pth')
    cfg = tiny_cfg(tmp_path / 'ours', load_from=str(tmp_path /
                                                    'foreign.pth'))
    with pytest.raises(RuntimeError, match=r'265 missing: backbone.bn1.bias,'
                       r'.*; 1 unexpected: encoder.fc.weight'):
        train(cfg)


def test_non_finite_loss_hook_checks_every_loss_term(tmp_path):
    from types import SimpleNamespace

    from mmconr.engine.hooks import NonFiniteLossHook
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2), epoch=1, iter=4,
                             train_dataloader=[None] * 3,
                             work_dir=str(tmp_path))
    hook = NonFiniteLossHook()
    # finite losses and non-loss outputs (a NaN metric) do not stop a run
    hook.after_train_iter(runner, 1, outputs=dict(
        loss=torch.tensor(1.0), loss_aux=0.5, acc=float('nan')))
    hook.after_train_iter(runner, 1, outputs=None)
    for bad in (float('inf'), float('-inf'), float('nan')):
        with pytest.raises(FloatingPointError) as err:
            hook.after_train_iter(runner, 1, outputs=dict(
                loss=torch.tensor(1.0), loss_aux=torch.tensor(bad)))
        msg = str(err.value)
        assert f'loss_aux={bad}' in msg and 'loss=' not in msg
        assert 'at epoch 1 iteration 2/3 (global iteration 5)' in msg


def mismatched_states():
    model = dict(a=torch.zeros(2, 3), b=torch.zeros(2), c=torch.zeros(1))
    ckpt = {
        'module.a': torch.zeros(3, 3),
        'module.b': torch.ones(2),
        'module.d': torch.zeros(1)
    }
    return model, ckpt


def test_checkpoint_mismatch_lists_missing_unexpected_and_shapes():
    from mmconr.engine.hooks import checkpoint_mismatch
    model, ckpt = mismatched_states()
    assert checkpoint_mismatch(model, ckpt) == dict(
        missing=['c'], unexpected=['d'],
        shape=['a: checkpoint (3, 3) vs model (2, 3)'])
    assert checkpoint_mismatch(model, model) == dict(
        missing=[], unexpected=[], shape=[])


def test_checkpoint_check_hook_strict_and_max_keys():
    from types import SimpleNamespace

    from mmconr.engine.hooks import CheckpointCheckHook
    warnings = []
    net = torch.nn.Linear(2, 3)
    runner = SimpleNamespace(
        model=net, logger=SimpleNamespace(warning=warnings.append))
    good = dict(state_dict=net.state_dict())
    CheckpointCheckHook().after_load_checkpoint(runner, good)
    bad = dict(state_dict={'module.weight': torch.zeros(2, 2)})
    with pytest.raises(RuntimeError) as err:
        CheckpointCheckHook().after_load_checkpoint(runner, bad)
    assert '1 missing: bias; 1 shape: weight: checkpoint (2, 2) vs model ' \
        '(3, 2)' in str(err.value)
    assert not warnings
    CheckpointCheckHook(strict=False).after_load_checkpoint(runner, bad)
    assert len(warnings) == 1 and '1 missing: bias' in warnings[0]
    extra = dict(good['state_dict'], x=1, y=2)
    with pytest.raises(RuntimeError, match=r'2 unexpected: x, y\. Set'):
        CheckpointCheckHook(max_keys=2).after_load_checkpoint(runner, extra)
    with pytest.raises(RuntimeError, match=r'2 unexpected: x \(\+1 more\)'):
        CheckpointCheckHook(max_keys=1).after_load_checkpoint(runner, extra)
