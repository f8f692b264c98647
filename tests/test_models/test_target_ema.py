"""TargetEMA: parameters only, and the official 1-based momentum step."""
import math

import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.models.utils import CosineEMA
from torch import nn

from mmconr.models.utils import TargetEMA


def nets():
    torch.manual_seed(0)
    online = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    online.train()
    return online


@pytest.fixture(autouse=True)
def max_iters():
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 20)
    yield


def step(online):
    with torch.no_grad():
        for p in online.parameters():
            p.add_(torch.randn_like(p))
    online(torch.randn(8, 3))  # moves the online BN statistics


def test_own_buffers_and_one_based_momentum_against_the_formula():
    online = nets()
    ema = TargetEMA(online, momentum=0.004, copy_buffers=False, count_from=1)
    target = {k: v.clone() for k, v in ema.module.named_parameters()}
    buffers = {k: v.clone() for k, v in ema.module.named_buffers()}
    for n in range(5):
        step(online)
        ema.update_parameters(online)
        src = dict(online.named_parameters())
        for k in target:
            if n == 0:  # the first update copies (mmengine)
                target[k] = src[k].detach().clone()
            else:  # moco_wrapper.py, m = 1 - 0.004 (cos(pi n_iter / N) + 1)/2
                m = 1 - 0.004 * (math.cos(math.pi * (n + 1) / 20) + 1) / 2
                target[k] = m * target[k] + (1 - m) * src[k].detach()
            torch.testing.assert_close(ema.module.state_dict()[k], target[k])
    for k, v in ema.module.named_buffers():  # the target's own statistics
        assert torch.equal(v, buffers[k]), k


def test_defaults_are_mmpretrain_cosine_ema():
    online = nets()
    ours, theirs = TargetEMA(online), CosineEMA(online)
    for _ in range(4):
        step(online)
        ours.update_parameters(online)
        theirs.update_parameters(online)
    for (k, a), b in zip(ours.module.state_dict().items(),
                         theirs.module.state_dict().values()):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match='count_from must be 0 or 1'):
        TargetEMA(online, count_from=2)


@pytest.mark.parametrize('count_from', [0, 1])
def test_own_buffers_respect_the_update_interval(count_from):
    """copy_buffers=False averages the parameters at the steps mmengine's
    ``interval`` selects (only every second update here), exactly as
    CosineEMA with the same interval and momentum step, and leaves the
    target's buffers alone."""
    online = nets()
    ours = TargetEMA(online, momentum=0.1, interval=2, copy_buffers=False,
                     count_from=count_from)
    theirs = TargetEMA(online, momentum=0.1, interval=2,
                       count_from=count_from)
    buffers = {k: v.clone() for k, v in ours.module.named_buffers()}
    history = []
    for _ in range(5):
        step(online)
        before = [p.clone() for p in ours.module.parameters()]
        ours.update_parameters(online)
        theirs.update_parameters(online)
        history.append(not all(
            torch.equal(a, b) for a, b in zip(before,
                                              ours.module.parameters())))
        for (k, a), b in zip(ours.module.named_parameters(),
                             theirs.module.parameters()):
            torch.testing.assert_close(a, b, msg=k)
    # update 0 copies, then only the even updates average
    assert history == [True, False, True, False, True]
    for k, v in ours.module.named_buffers():
        assert torch.equal(v, buffers[k]), k
