"""ConAffNeckHook: the stage switch, the lr scaling once, the config keys
the stage hooks read."""
import pytest
import torch


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
    with pytest.raises(ValueError, match='lr_mult must be a positive number'):
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


def test_dropping_group_lr_mult_keeps_the_auto_scaled_lr(monkeypatch):
    """mmengine's auto_scale_lr multiplies the groups' lr, not the
    optimizer's defaults: the stage's base lr is the scaled one."""
    from types import SimpleNamespace

    from mmengine.config import Config

    from mmconr.engine import runner_utils
    from mmconr.engine.hooks import ConAffNeckHook
    monkeypatch.setattr(runner_utils, 'get_world_size', lambda: 2)
    hook = ConAffNeckHook(start_epoch=1, lr_mult=1.0,
                          keep_group_lr_mult=False)
    runner = stage_runner('test_conaff_auto_scale')
    runner.cfg = Config(
        dict(auto_scale_lr=dict(enable=True, base_batch_size=32)))
    runner.train_dataloader = SimpleNamespace(batch_size=64)  # x 2 = 128
    runner.max_epochs = 4
    hook.before_train(runner)
    groups = runner.optim_wrapper.optimizer.param_groups
    for group in groups:  # what Runner.scale_lr and the schedulers do
        group['lr'] *= 4
        group['initial_lr'] = group['lr']
    runner.epoch = 1
    hook.before_train_epoch(runner)
    assert lrs(runner) == pytest.approx([0.4, 0.4])


@pytest.mark.parametrize('batch, num_clusters, k, warns', [
    (64, 10, 10, True),  # 10 > 0.75 x 6.4
    (64, 10, 4, False),  # 4 <= 4.8
    (64, 10, 5, True),  # 5 > 4.8
    (512, 10, 10, False),  # the paper's setting
])
def test_conaff_neck_warns_when_k_exceeds_the_batch_share(
        batch, num_clusters, k, warns):
    """Before training: k against the global batch's share of one of the
    config's num_clusters clusters, B / K."""
    from types import SimpleNamespace

    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmconr.engine.hooks import ConAffNeckHook
    from mmconr.models import ConAffNeighborhood

    class Model:
        neighborhood = ConAffNeighborhood(k=k, k1=k, k2=2)

        def set_group_stage(self, on):
            pass

    logged = []
    logger = MMLogger.get_instance('test_k_warning')
    runner = SimpleNamespace(
        cfg=Config(dict(num_clusters=num_clusters)), model=Model(),
        max_epochs=10, train_dataloader=SimpleNamespace(batch_size=batch),
        logger=SimpleNamespace(warning=logged.append, info=logger.info))
    ConAffNeckHook(start_epoch=1).before_train(runner)
    assert bool(logged) == warns
    if warns:
        assert f'k={k} ' in logged[0] and f'B={batch} ' in logged[0]
        assert f'K={num_clusters} ' in logged[0]
