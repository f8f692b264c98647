"""Synchronised BatchNorm that also works on CPU process groups (gloo).

torch's ``nn.SyncBatchNorm`` refuses CPU tensors as soon as a process group
exists, so a config with ``norm_cfg=dict(type='SyncBN')`` (mmpretrain's
BYOL / SimSiam and the paper's settings) could not run multi-process on a
machine without GPUs, and a CPU run of ``torchrun`` would silently change
the method if it fell back to per-process BN. This class is registered as
``PortableSyncBN`` (``SyncBN`` keeps mmengine's meaning, torch's class): on
GPUs it *is* torch's SyncBatchNorm; on CPU
it computes the global batch mean and variance with differentiable
all-reduces, so N processes x B/N samples normalise (and back-propagate)
exactly like one process with B samples.
"""
import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.nn.functional import all_reduce
from torch.nn.modules.batchnorm import _BatchNorm

from mmconr.registry import MODELS


def _world_size(group) -> int:
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return 1
    return torch_dist.get_world_size(group or torch_dist.group.WORLD)


def sync_batch_stats(x: torch.Tensor, group=None):
    """Global (biased) per-channel mean and variance and the sample count of
    ``x`` (N, C, ...) over all ranks of ``group``; differentiable.

    Two passes (mean, then the centred second moment) keep the variance as
    accurate as a single-process ``F.batch_norm``.
    """
    dims = [0] + list(range(2, x.dim()))
    # fp32 under AMP: an fp16 count overflows at 65,536 values per channel
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    count = x.new_tensor([x.numel() / x.shape[1]])
    with torch.no_grad():
        count = all_reduce(count, group=group or torch_dist.group.WORLD)
    if float(count) == 0:
        raise ValueError('SyncBN got an empty global batch')
    mean = all_reduce(x.sum(dims), group=group or torch_dist.group.WORLD)
    mean = mean / count
    shape = [1, -1] + [1] * (x.dim() - 2)
    centred = x - mean.reshape(shape)
    var = all_reduce((centred * centred).sum(dims),
                     group=group or torch_dist.group.WORLD) / count
    return mean, var, count


@MODELS.register_module('PortableSyncBN')
class PortableSyncBatchNorm(_BatchNorm):
    """``nn.SyncBatchNorm`` with a CPU (gloo) synchronisation path.

    Not a subclass of ``nn.SyncBatchNorm``, whose DDP refuses CPU modules
    that contain one; on accelerators it runs ``nn.SyncBatchNorm.forward``
    itself. Same parameters, buffers and state-dict keys.
    """

    def __init__(self, num_features: int, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True, process_group=None,
                 device=None, dtype=None) -> None:
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats, device=device, dtype=dtype)
        self.process_group = process_group

    _check_input_dim = nn.SyncBatchNorm._check_input_dim
    _check_non_zero_input_channels = \
        nn.SyncBatchNorm._check_non_zero_input_channels

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if (input.device.type != 'cpu' or not self.training
                or not (torch_dist.is_available()
                        and torch_dist.is_initialized())):
            return nn.SyncBatchNorm.forward(self, input)
        self._check_input_dim(input)
        if _world_size(self.process_group) == 1:
            return self._local(input)
        return self._synced(input)

    def _momentum(self) -> float:
        if not self.track_running_stats:
            return 0.0
        self.num_batches_tracked.add_(1)
        if self.momentum is None:  # cumulative moving average
            return 1.0 / float(self.num_batches_tracked)
        return self.momentum

    def _local(self, input):
        factor = self._momentum()
        return F.batch_norm(input, self.running_mean, self.running_var,
                            self.weight, self.bias, True, factor, self.eps)

    def _synced(self, input):
        factor = self._momentum()
        mean, var, count = sync_batch_stats(input, self.process_group)
        if self.track_running_stats:
            with torch.no_grad():
                unbiased = var * (count / (count - 1).clamp(min=1))
                self.running_mean.mul_(1 - factor).add_(factor * mean)
                self.running_var.mul_(1 - factor).add_(factor * unbiased)
        shape = [1, -1] + [1] * (input.dim() - 2)
        out = (input - mean.reshape(shape)) * torch.rsqrt(
            var.reshape(shape) + self.eps)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out
