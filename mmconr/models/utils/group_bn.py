"""BatchNorm over fixed groups of samples, whatever the number of GPUs.

The official ConNR run normalises over each GPU's 128 samples (4 GPUs x 128,
no SyncBN), so its BN statistics are those of groups of 128. ``GroupBN``
keeps that group size on any layout of the same global batch of B samples.
A distributed sampler deals the samples out to ranks in turn (position
``q`` of the global batch goes to rank ``q % W``), so the groups are
defined on these positions: group ``h`` of the ``B / group_size`` groups
holds the positions ``q`` with ``q % (B / group_size) == h``. Then

* per-process batch = ``group_size``: plain per-process BN;
* larger (e.g. 512 on one GPU): "ghost" batches inside the process, local
  rows ``h, h + G, h + 2G, ...`` (G local groups) normalised on their own;
* smaller (e.g. 64 on 8 GPUs): the ranks ``h, h + G, ...`` (G groups) form
  one group whose statistics are all-reduced (differentiably) within it,

and 1 x 512, 2 x 256, 4 x 128 and 8 x 64 normalise (and back-propagate)
the same samples together (the statistics in fp32, also under AMP). The
running statistics are the same on every
rank and independent of the layout: updated with the average over *all*
groups of the global batch (``running_stats='mean'``, one all-reduce of 2C
numbers), or with the statistics of the group holding position 0
(``'first_group'``, broadcast from rank 0): those of GPU 0 in the official
run, whose DDP (``broadcast_buffers=True``) hands GPU 0's buffers to every
GPU at each forward.
"""
from typing import Dict, Tuple

import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm

from mmconr.registry import MODELS
from .sync_bn import sync_batch_stats

# process groups of strided ranks, created once per (world, number of
# groups): new_group() is collective and must be called in the same order on
# all ranks
_SUBGROUPS: Dict[Tuple[int, int], object] = {}


def _dist_ready() -> bool:
    return torch_dist.is_available() and torch_dist.is_initialized()


def rank_subgroup(num_groups: int):
    """This rank's process group: the ranks ``h, h + num_groups, ...``."""
    world = torch_dist.get_world_size()
    key = (world, num_groups)
    if key not in _SUBGROUPS:
        _SUBGROUPS[key] = [
            torch_dist.new_group(list(range(h, world, num_groups)))
            for h in range(num_groups)
        ]
    return _SUBGROUPS[key][torch_dist.get_rank() % num_groups]


def group_layout(batch: int, group_size: int, world_size: int) -> str:
    """``'local'`` (groups inside the batch) or ``'ranks'`` (a group spans
    ``group_size / batch`` ranks); an error names the numbers that do not
    fit."""
    if batch >= group_size:
        if batch % group_size:
            raise ValueError(
                f'GroupBN: the per-process batch {batch} is not a multiple '
                f'of group_size={group_size}')
        return 'local'
    if group_size % batch or world_size % (group_size // batch):
        raise ValueError(
            f'GroupBN: group_size={group_size} cannot be formed from '
            f'per-process batches of {batch} on {world_size} process(es): '
            f'it must be a multiple of the batch, and the number of '
            f'processes a multiple of group_size / batch')
    return 'ranks'


RUNNING_STATS = ('mean', 'first_group')


@MODELS.register_module('GroupBN')
class GroupBatchNorm(_BatchNorm):
    """BN whose training statistics come from fixed groups of
    ``group_size`` samples of the global batch (see the module docstring).

    Args:
        num_features, eps, momentum, affine, track_running_stats: as
            :class:`torch.nn.BatchNorm2d`.
        group_size: samples per normalisation group (the official run's
            per-GPU batch, 128).
        running_stats: ``'mean'`` (the average over all groups) or
            ``'first_group'`` (the official run's: GPU 0's group).
    """

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True,
                 group_size: int = 128,
                 running_stats: str = 'mean') -> None:
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats)
        if not isinstance(group_size, int) or group_size < 2:
            raise ValueError(
                f'group_size must be an integer >= 2, got {group_size!r}')
        if running_stats not in RUNNING_STATS:
            raise ValueError(f'running_stats must be one of {RUNNING_STATS}, '
                             f'got {running_stats!r}')
        self.group_size = group_size
        self.running_stats = running_stats

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'expected at least 2-D input (N, C, ...), got '
                             f'{input.dim()}-D')

    def extra_repr(self) -> str:
        return (f'{super().extra_repr()}, group_size={self.group_size}, '
                f'running_stats={self.running_stats!r}')

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(input)
        if not self.training and self.running_mean is not None:
            return F.batch_norm(input, self.running_mean, self.running_var,
                                self.weight, self.bias, False, 0., self.eps)
        world = torch_dist.get_world_size() if _dist_ready() else 1
        layout = group_layout(input.shape[0], self.group_size, world)
        if layout == 'local':
            num_local = input.shape[0] // self.group_size
            chunks = [input[h::num_local] for h in range(num_local)]
            outs = [
                F.batch_norm(c, None, None, self.weight, self.bias, True, 0.,
                             self.eps) for c in chunks
            ]
            # row j of the batch is row j // num_local of group j % num_local
            out = torch.stack(outs, dim=1).flatten(0, 1)
            if self.track_running_stats and self.training:
                with torch.no_grad():
                    if self.running_stats == 'first_group':
                        chunks = chunks[:1]  # rank 0's holds position 0
                    stats = [self._stats(c) for c in chunks]
                    mean = torch.stack([s[0] for s in stats]).mean(0)
                    var = torch.stack([s[1] for s in stats]).mean(0)
                    self._update_running(mean, var, world)
            return out
        ranks_per_group = self.group_size // input.shape[0]
        group = rank_subgroup(world // ranks_per_group)
        mean, var, count = sync_batch_stats(input, group)
        if self.track_running_stats and self.training:
            with torch.no_grad():
                unbiased = var * (count / (count - 1).clamp(min=1))
                self._update_running(mean.detach(), unbiased, world)
        shape = [1, -1] + [1] * (input.dim() - 2)
        out = (input - mean.reshape(shape)) * torch.rsqrt(
            var.reshape(shape) + self.eps)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out.to(input.dtype)

    @staticmethod
    def _stats(x: torch.Tensor):
        """Mean and unbiased variance per channel of one group."""
        dims = [0] + list(range(2, x.dim()))
        return x.mean(dims), x.var(dims, unbiased=True)

    def _update_running(self, mean, var, world: int) -> None:
        """Running statistics from this rank's groups' ``mean`` / ``var``:
        averaged over ranks (every rank of a rank-spanning group holds the
        same values, so the mean over ranks is the mean over groups), or
        rank 0's (its first group holds position 0)."""
        if world > 1:
            both = torch.cat([mean, var])
            if self.running_stats == 'mean':
                torch_dist.all_reduce(both)
                both = both / world
            else:
                torch_dist.broadcast(both, src=0)
            mean, var = both.split(mean.numel())
        self.num_batches_tracked.add_(1)
        factor = (1.0 / float(self.num_batches_tracked)
                  if self.momentum is None else self.momentum)
        self.running_mean.mul_(1 - factor).add_(factor * mean)
        self.running_var.mul_(1 - factor).add_(factor * var)


__all__ = ['GroupBatchNorm', 'group_layout', 'rank_subgroup']
