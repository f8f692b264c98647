"""The learning-rate curve of the official BYOL / ConNR code, per iteration.

``lr(e) = lr0 * e / W`` for ``e < W``, then
``lr0 * (1 + cos((e - W) * pi / P)) / 2``, with the fractional epoch
``e = n / iters_per_epoch`` of the 1-based iteration ``n`` (the official
``adjust_learning_rate`` is called with ``n_iter`` = 1 before the first
step) and the period ``P`` = the number of epochs (1000), not ``P - W``: the
curve never reaches 0 (factor 0.146 at epoch 800). mmengine's ``LinearLR``
cannot start from 0 and its ``CosineAnnealingLR`` counts from 0 over
``T_max``; neither gives this curve exactly.
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmconr.registry import PARAM_SCHEDULERS


def warmup_cosine_factor(step: int, iters_per_epoch: int,
                         warmup_epochs: float, period_epochs: float,
                         count_from: int = 1) -> float:
    """The factor on the base lr at optimiser step ``step`` (0-based)."""
    epoch = (step + count_from) / iters_per_epoch
    if epoch < warmup_epochs:
        return epoch / warmup_epochs
    return 0.5 * (1.0 + math.cos(
        (epoch - warmup_epochs) * math.pi / period_epochs))


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(LRSchedulerMixin, _ParamScheduler):
    """Linear warm-up then cosine with a free period, per iteration.

    Give it in epochs with ``convert_to_iter_based=True`` (mmengine then
    passes the iterations per epoch). Chained like mmengine's schedulers:
    each step multiplies the current lr by ``f(n) / f(n - 1)``, so a factor
    applied from outside (``ConAffNeckHook``'s stage lr) carries on, and
    param groups with an ``lr_mult`` keep it.

    Args:
        optimizer: wrapped optimizer.
        warmup_epochs: W, the linear warm-up's length (official: 50).
        period_epochs: P, the cosine's half period (official: 1000, the
            length of the whole run).
        epoch_length: iterations per epoch (set by the conversion).
        count_from: 1: the official code's 1-based iteration counter (its
            first step has lr ``lr0 / (W * iters_per_epoch)``); 0: from 0.
        begin, end, by_epoch, last_step, verbose: as mmengine's schedulers.
    """

    def __init__(self, optimizer, warmup_epochs: float, period_epochs: float,
                 epoch_length: int, count_from: int = 1, begin: int = 0,
                 end: int = INF, by_epoch: bool = False,
                 last_step: int = -1, verbose: bool = False) -> None:
        if by_epoch:
            raise ValueError('WarmupCosineLR is per iteration: give it in '
                             'epochs with convert_to_iter_based=True')
        if not (isinstance(epoch_length, int) and epoch_length > 0):
            raise ValueError(f'epoch_length must be a positive integer, got '
                             f'{epoch_length!r}')
        if not warmup_epochs >= 0 or not period_epochs > 0:
            raise ValueError(
                f'warmup_epochs={warmup_epochs!r} must be >= 0 and '
                f'period_epochs={period_epochs!r} > 0')
        if count_from == 0 and warmup_epochs > 0:
            raise ValueError('count_from=0 with a warm-up starts at lr 0, '
                             'which a chained schedule cannot leave')
        if count_from not in (0, 1):
            raise ValueError(f'count_from must be 0 or 1, got {count_from!r}')
        self.warmup_epochs = warmup_epochs
        self.period_epochs = period_epochs
        self.epoch_length = epoch_length
        self.count_from = count_from
        super().__init__(optimizer, begin=begin, end=end, by_epoch=False,
                         last_step=last_step, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, by_epoch=True,
                              epoch_length=None, **kwargs):
        if not by_epoch:
            raise ValueError('convert_to_iter_based needs by_epoch=True')
        begin = int(begin * epoch_length)
        if end != INF:
            end = int(end * epoch_length)
        return cls(*args, epoch_length=epoch_length, begin=begin, end=end,
                   by_epoch=False, **kwargs)

    def factor(self, step: int) -> float:
        return warmup_cosine_factor(step + self.begin, self.epoch_length,
                                    self.warmup_epochs, self.period_epochs,
                                    self.count_from)

    def _get_value(self):
        if self.last_step == 0:
            ratio = self.factor(0)
        else:
            ratio = self.factor(self.last_step) / self.factor(
                self.last_step - 1)
        return [
            group[self.param_name] * ratio
            for group in self.optimizer.param_groups
        ]
