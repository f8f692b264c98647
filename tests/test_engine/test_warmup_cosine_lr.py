"""WarmupCosineLR: the official per-iteration lr curve, through mmengine."""
import math

import pytest
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmconr.engine.schedulers import WarmupCosineLR
from mmconr.registry import PARAM_SCHEDULERS


def official_lr(n_iter, lr0, ipe, warmup, period):
    """basic_template.py cosine_annealing_LR, n_iter 1-based."""
    epoch = n_iter / ipe
    if epoch < warmup:
        return lr0 * epoch / warmup
    return 0.5 * lr0 * (1 + math.cos((epoch - warmup) * math.pi / period))


def optimizer_with_groups():
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([dict(params=[a]), dict(params=[b], lr=1.0)],
                          lr=0.1)
    return OptimWrapper(sgd)


def test_curve_equals_the_official_formula_per_iteration():
    from mmconr.utils import register_all_modules
    register_all_modules()
    wrapper = optimizer_with_groups()
    ipe, epochs = 3, 40
    sched = PARAM_SCHEDULERS.build(
        dict(type='WarmupCosineLR', warmup_epochs=5, period_epochs=epochs,
             by_epoch=True, begin=0, end=epochs,
             convert_to_iter_based=True),
        default_args=dict(optimizer=wrapper, epoch_length=ipe))
    assert isinstance(sched, WarmupCosineLR) and not sched.by_epoch
    groups = wrapper.optimizer.param_groups
    for step in range(ipe * epochs):
        for group, lr0 in zip(groups, (0.1, 1.0)):
            assert group['lr'] == pytest.approx(
                official_lr(step + 1, lr0, ipe, 5, epochs), rel=1e-9)
        if step == 20 * ipe:  # a factor from outside carries on (chained)
            for group in groups:
                group['lr'] *= 0.1
            break
        sched.step()
    for step in range(20 * ipe, ipe * epochs - 1):
        sched.step()
        for group, lr0 in zip(groups, (0.1, 1.0)):
            assert group['lr'] == pytest.approx(
                0.1 * official_lr(step + 2, lr0, ipe, 5, epochs), rel=1e-9)


def test_bad_arguments_are_refused():
    wrapper = optimizer_with_groups()
    with pytest.raises(ValueError, match='per iteration'):
        WarmupCosineLR(wrapper, 5, 40, epoch_length=3, by_epoch=True)
    with pytest.raises(ValueError, match='epoch_length must be a positive'):
        WarmupCosineLR(wrapper, 5, 40, epoch_length=0)
    with pytest.raises(ValueError, match='starts at lr 0'):
        WarmupCosineLR(wrapper, 5, 40, epoch_length=3, count_from=0)


def test_count_from_zero_follows_the_zero_based_curve():
    """count_from=0 (no warm-up): the lr of 0-based step n is
    lr0 (1 + cos(pi (n / ipe) / P)) / 2, starting at lr0 itself."""
    wrapper = optimizer_with_groups()
    ipe, period = 4, 10
    sched = WarmupCosineLR(wrapper, 0, period, epoch_length=ipe,
                           count_from=0)
    groups = wrapper.optimizer.param_groups
    for step in range(ipe * period):
        for group, lr0 in zip(groups, (0.1, 1.0)):
            expected = 0.5 * lr0 * (1 + math.cos(step / ipe * math.pi /
                                                 period))
            assert group['lr'] == pytest.approx(expected, rel=1e-9)
        sched.step()
    assert groups[0]['lr'] == pytest.approx(0.0, abs=1e-12)


def test_late_begin_joins_the_global_curve():
    """A scheduler given in epochs with begin=2 leaves the lr alone for 2
    epochs' iterations, then follows the official curve of the *global*
    (1-based) iteration, not a curve restarted at its begin."""
    from mmconr.utils import register_all_modules
    register_all_modules()
    wrapper = optimizer_with_groups()
    ipe, epochs, begin = 3, 12, 2
    sched = PARAM_SCHEDULERS.build(
        dict(type='WarmupCosineLR', warmup_epochs=4, period_epochs=epochs,
             by_epoch=True, begin=begin, end=epochs,
             convert_to_iter_based=True),
        default_args=dict(optimizer=wrapper, epoch_length=ipe))
    assert (sched.begin, sched.end) == (begin * ipe, epochs * ipe)
    groups = wrapper.optimizer.param_groups
    for step in range(ipe * epochs):
        for group, lr0 in zip(groups, (0.1, 1.0)):
            expected = lr0 if step < begin * ipe else official_lr(
                step + 1, lr0, ipe, 4, epochs)
            assert group['lr'] == pytest.approx(expected, rel=1e-9), step
        sched.step()
