"""EpochSeedHook: every epoch draws from its own seeds, the same on resume."""
import torch


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
