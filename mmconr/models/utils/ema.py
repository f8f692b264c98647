"""The target network's EMA, with the official code's two differences."""
from math import cos, pi

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.utils import CosineEMA
from torch import nn


class TargetEMA(CosineEMA):
    """:class:`mmpretrain.models.utils.CosineEMA` (mmengine's EMA with
    BYOL's cosine momentum) with two options of the official BYOL / ConNR
    code (docs/method.md §4):

    * ``copy_buffers=False``: average the parameters only and leave the
      target's buffers alone. mmengine's ``update_buffers=False`` copies the
      online network's buffers (BN running statistics) into the target at
      every update, so the target evaluates with the online statistics;
      the official target keeps the statistics of its own forwards.
    * ``count_from=1``: update number ``s`` (0-based) uses the momentum of
      step ``s + 1``, ``1 - m0 (cos(pi (s + 1) / max_iters) + 1) / 2``, as
      the official code's 1-based iteration counter.

    Everything else -- the first update copies the parameters, ``max_iters``
    comes from the MessageHub -- is mmengine's / mmpretrain's.
    """

    def __init__(self, model: nn.Module, copy_buffers: bool = True,
                 count_from: int = 0, **kwargs) -> None:
        if kwargs.get('update_buffers'):
            raise ValueError('TargetEMA averages parameters only; use '
                             'CosineEMA(update_buffers=True) instead')
        if count_from not in (0, 1):
            raise ValueError(f'count_from must be 0 or 1, got {count_from!r}')
        super().__init__(model, **kwargs)
        self.copy_buffers = bool(copy_buffers)
        self.count_from = count_from

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        if self.count_from == 0:
            return super().avg_func(averaged_param, source_param, steps)
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        annealing = (cos(pi * (int(steps) + 1) / float(max_iters)) + 1) / 2
        momentum = self.end_momentum - (self.end_momentum -
                                        self.momentum) * annealing
        averaged_param.mul_(1 - momentum).add_(source_param, alpha=momentum)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        if self.copy_buffers:
            return super().update_parameters(model)
        src = dict(model.named_parameters())
        if self.steps == 0:
            for name, p_avg in self.avg_parameters.items():
                p_avg.data.copy_(src[name].data)
        elif self.steps % self.interval == 0:
            for name, p_avg in self.avg_parameters.items():
                if p_avg.dtype.is_floating_point:
                    self.avg_func(p_avg.data,
                                  src[name].data.to(p_avg.device), self.steps)
        self.steps += 1
