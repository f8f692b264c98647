import pytest
import torch
from torch.utils.data import DataLoader

from tests.test_clustering.test_features import (EmbedModel, FeatureDataset,
                                                 collate)


class BoundaryModel(EmbedModel):
    """EmbedModel that records the boundary state handed to it."""

    def __init__(self):
        super().__init__()
        self.states = []

    def set_boundary_state(self, centroids, labels, fraction):
        self.states.append((centroids.clone(), labels.clone(), fraction))


def test_boundary_filter_interval_reuses_kmeans_between_passes():
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from mmconr.engine.hooks import BoundaryFilterHook
    hook = BoundaryFilterHook(
        dataloader=dict(), num_clusters=2, start_epoch=1, end_epoch=5,
        start_fraction=0.6, interval=2)
    hook._dataloader = DataLoader(FeatureDataset(12), batch_size=5,
                                  collate_fn=collate)
    model = BoundaryModel()
    runner = SimpleNamespace(
        model=model, logger=MMLogger.get_instance('test_interval'),
        visualizer=SimpleNamespace(add_scalars=lambda *a, **k: None))
    passes = []
    for epoch in range(6):
        runner.epoch = epoch
        before = len(model.modes)
        hook.before_train_epoch(runner)
        passes.append(len(model.modes) > before)
    assert passes == [False, True, False, True, False, True]
    fractions = [state[2] for state in model.states]
    assert fractions == pytest.approx([0.6, 0.7, 0.8, 0.9, 1.0])
    # reused epochs get the centroids and labels of the pass before
    assert torch.equal(model.states[1][0], model.states[0][0])
    assert torch.equal(model.states[3][1], model.states[2][1])
    assert hook.state['epoch'] == 5 and hook.state['fraction'] == 1.0
    # a checkpoint's state older than the interval is recomputed
    hook.state['epoch'] = 1
    runner.epoch = 4
    before = len(model.modes)
    hook.before_train_epoch(runner)
    assert len(model.modes) > before
    with pytest.raises(ValueError, match='interval must be a positive '
                       'integer, got 0'):
        BoundaryFilterHook(dataloader=dict(), num_clusters=2,
                           start_epoch=0, interval=0)


# ------------------------------------------------------------ EpochSeedHook
def seed_runner(seed=7, epoch=0, randomness=None):
    from types import SimpleNamespace
    return SimpleNamespace(
        seed=seed, epoch=epoch, _randomness_cfg=randomness or {},
        train_dataloader=SimpleNamespace(persistent_workers=False))


def draws():
    """One draw of each global generator the augmentations use."""
    import random

    import numpy as np
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_epoch_seed_depends_on_seed_epoch_and_rank():
    from mmconr.engine.hooks import epoch_seed
    grid = [(s, e, r) for s in (0, 1, 42) for e in range(4) for r in (0, 3)]
    seeds = [epoch_seed(*args) for args in grid]
    assert len(set(seeds)) == len(grid), 'every (seed, epoch, rank) differs'
    assert seeds == [epoch_seed(*args) for args in grid], 'deterministic'
    assert all(0 <= s < 2**32 for s in seeds)


def test_epoch_seed_hook_reseeds_each_epoch_from_seed_and_epoch():
    """Each epoch draws other augmentations than the one before, and an
    epoch re-run (a resumed run) draws the same ones, whatever the
    generators' state before; another base seed draws others."""
    import random

    import numpy as np

    from mmconr.engine.hooks import EpochSeedHook
    hook = EpochSeedHook()
    per_epoch = []
    for epoch in range(3):
        hook.before_train_epoch(seed_runner(epoch=epoch))
        per_epoch.append(draws())
    for a, b in zip(per_epoch, per_epoch[1:]):
        assert all(x != y for x, y in zip(a, b)), 'epochs draw alike'
    random.seed(123)  # a resumed process starts from another state
    np.random.seed(123)
    torch.manual_seed(123)
    hook.before_train_epoch(seed_runner(epoch=1))
    assert draws() == per_epoch[1]
    hook.before_train_epoch(seed_runner(seed=8, epoch=1))
    assert all(x != y for x, y in zip(draws(), per_epoch[1]))


def test_epoch_seed_hook_rank_streams(monkeypatch):
    """diff_rank (default: randomness.diff_rank_seed) gives each rank the
    stream of epoch_seed(seed, epoch, rank); otherwise rank 0's."""
    import importlib
    module = importlib.import_module('mmconr.engine.hooks.epoch_seed_hook')
    monkeypatch.setattr(module, 'get_rank', lambda: 3)

    def torch_draw(hook, randomness=None):
        hook.before_train_epoch(seed_runner(epoch=2, randomness=randomness))
        return torch.rand(3)

    def expected(rank):
        torch.manual_seed(module.epoch_seed(7, 2, rank))
        return torch.rand(3)

    assert torch.equal(torch_draw(module.EpochSeedHook()), expected(0))
    assert torch.equal(
        torch_draw(module.EpochSeedHook(), dict(diff_rank_seed=True)),
        expected(3))
    assert torch.equal(torch_draw(module.EpochSeedHook(diff_rank=True)),
                       expected(3))
    assert torch.equal(
        torch_draw(module.EpochSeedHook(diff_rank=False),
                   dict(diff_rank_seed=True)), expected(0))


# ----------------------------------------------------------- ConAffNeckHook
class StageModel(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.zeros(1))
        self.b = torch.nn.Parameter(torch.zeros(1))
        self.stages = []

    def set_group_stage(self, on):
        self.stages.append(on)


def stage_runner(name):
    """A runner of a StageModel with an SGD of base lr 0.1 whose second
    param group has lr_mult 10 (lr 1.0)."""
    from types import SimpleNamespace

    from mmengine.logging import MMLogger
    from mmengine.optim import OptimWrapper
    model = StageModel()
    sgd = torch.optim.SGD([dict(params=[model.a]),
                           dict(params=[model.b], lr=1.0)], lr=0.1)
    return SimpleNamespace(model=model, epoch=0,
                           logger=MMLogger.get_instance(name),
                           optim_wrapper=OptimWrapper(sgd))


def lrs(runner):
    return [g['lr'] for g in runner.optim_wrapper.optimizer.param_groups]


def test_conaff_neck_stage_and_lr_switch_at_start_epoch():
    from mmconr.engine.hooks import ConAffNeckHook
    hook = ConAffNeckHook(start_epoch=2, lr_mult=0.1)
    runner = stage_runner('test_conaff_switch')
    history = []
    for epoch in range(5):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        history.append(lrs(runner))
    assert runner.model.stages == [False, False, True, True, True]
    expected = [[0.1, 1.0]] * 2 + [[0.01, 0.1]] * 3
    for got, want in zip(history, expected):
        assert got == pytest.approx(want)


@pytest.mark.parametrize('lr_mult', [1.0, 0.1])
def test_conaff_neck_drops_group_lr_mult(lr_mult):
    """keep_group_lr_mult=False: from start_epoch every group runs at
    lr_mult x the base schedule (initial_lr = base lr x its lr_mult), also
    with lr_mult=1."""
    from mmconr.engine.hooks import ConAffNeckHook
    hook = ConAffNeckHook(start_epoch=1, lr_mult=lr_mult,
                          keep_group_lr_mult=False)
    runner = stage_runner('test_conaff_groups')
    groups = runner.optim_wrapper.optimizer.param_groups
    for group in groups:  # a schedule at half its initial value
        group['initial_lr'] = group['lr']
        group['lr'] *= 0.5
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert lrs(runner) == pytest.approx([lr_mult * 0.05] * 2)


def test_conaff_neck_lr_switch_applied_once_across_resume():
    """The lr switch is recorded in checkpoints: a run resumed within
    start_epoch (an iteration checkpoint) does not scale the lr again; one
    resumed before it does; one resumed after it from a checkpoint that
    does not record the switch does not scale it (the optimizer state
    already carries it)."""
    from mmconr.engine.hooks import ConAffNeckHook
    hook = ConAffNeckHook(start_epoch=2, lr_mult=0.1)
    runner = stage_runner('test_conaff_resume')
    before = {}
    hook.before_save_checkpoint(runner, before)
    runner.epoch = 2
    hook.before_train_epoch(runner)
    after = {}
    hook.before_save_checkpoint(runner, after)
    assert lrs(runner) == pytest.approx([0.01, 0.1])

    resumed = ConAffNeckHook(start_epoch=2, lr_mult=0.1)
    resumed.after_load_checkpoint(runner, after)
    resumed.before_train_epoch(runner)  # epoch 2 again
    assert lrs(runner) == pytest.approx([0.01, 0.1])

    runner = stage_runner('test_conaff_resume_before')
    resumed = ConAffNeckHook(start_epoch=2, lr_mult=0.1)
    resumed.after_load_checkpoint(runner, before)
    runner.epoch = 2
    resumed.before_train_epoch(runner)
    assert lrs(runner) == pytest.approx([0.01, 0.1])

    runner = stage_runner('test_conaff_resume_late')
    resumed = ConAffNeckHook(start_epoch=2, lr_mult=0.1)
    resumed.after_load_checkpoint(runner, {})
    runner.epoch = 3
    resumed.before_train_epoch(runner)
    assert lrs(runner) == pytest.approx([0.1, 1.0])
    runner.epoch = 4
    resumed.before_train_epoch(runner)
    assert lrs(runner) == pytest.approx([0.1, 1.0])


# ------------------------------------------------------------ safety hooks
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


def test_stage_hooks_read_and_check_the_config_keys_they_name():
    """``start_epoch='conr_start_epoch'`` etc. (configs/_base_/conr_stage.py)
    are read from the config in before_train and checked there."""
    from types import SimpleNamespace

    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmconr.engine.hooks import BoundaryFilterHook, ConAffNeckHook

    class Model:
        def set_group_stage(self, on):
            self.on = on

    def runner(**keys):
        return SimpleNamespace(
            cfg=Config(keys), model=Model(), max_epochs=10,
            train_dataloader=SimpleNamespace(batch_size=64),
            logger=MMLogger.get_instance('test_config_keys'))

    hook = ConAffNeckHook(start_epoch='t0', lr_mult='mult')
    hook.before_train(runner(t0=3, mult=0.5))
    assert (hook.start_epoch, hook.lr_mult) == (3, 0.5)
    with pytest.raises(ValueError, match='start_epoch must be a non-neg'):
        ConAffNeckHook(start_epoch='t0').before_train(runner(t0=-1))
    with pytest.raises(ValueError, match='lr_mult must be positive'):
        ConAffNeckHook(start_epoch=1, lr_mult='m').before_train(runner(m=0))
    # values given directly are checked at once
    with pytest.raises(ValueError, match='start_epoch must be a non-neg'):
        ConAffNeckHook(start_epoch=-2)
    with pytest.raises(ValueError, match='fraction'):
        BoundaryFilterHook(dataloader='d', num_clusters='k', start_epoch=1,
                           end_epoch=3, start_fraction=1.5)
    boundary = BoundaryFilterHook(
        dataloader='d', num_clusters='k', start_epoch='t0', end_epoch='t1',
        start_fraction='fr0', one_based_epochs='one', kmeans_cfg='km')
    with pytest.raises(ValueError, match='fraction'):
        boundary.before_train(runner(d={}, k=2, t0=1, t1=3, fr0=0.0, one=1,
                                     km=dict(n_init=2)))
