"""The rows of an (N, D) matrix split over the ranks of a process group:
rank r holds the contiguous block ``[offset, offset + n_local)``.

k-means (:mod:`.kmeans`) runs on shards: its steps reduce (K, D) sums,
counts and a few scalars or fetch single rows, so no rank needs the whole
matrix (O(N) scalars are gathered only where an empty cluster must be
refilled, and the seeding sample of ``init_size`` rows is replicated).
:class:`LocalShards` is the one-process case (every reduction is the
identity), so one implementation serves both.
"""
from typing import List, Sequence, Tuple

import numpy as np
import torch
from mmengine import dist


def shard_bounds(num_samples: int, world_size: int,
                 rank: int) -> Tuple[int, int]:
    """``[start, stop)`` of rank ``rank``'s block: ``num_samples`` split
    into ``world_size`` contiguous blocks whose sizes differ by at most
    one (``ContiguousShardSampler`` gives each rank its block)."""
    bounds = np.linspace(0, num_samples, world_size + 1).astype(int)
    return int(bounds[rank]), int(bounds[rank + 1])


class LocalShards:
    """All N rows in this process."""
    world_size = 1
    rank = 0

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x
        self.offset = 0
        self.total = x.shape[0]
        self.sizes = [x.shape[0]]

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` summed over the ranks (in place where there are several)."""
        return t

    def min(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def cat(self, t: torch.Tensor) -> torch.Tensor:
        """The ranks' ``t`` (first dim = rows of their block) concatenated
        in rank order."""
        return t

    def rows(self, idx: Sequence[int]) -> torch.Tensor:
        """The rows of global indices ``idx`` (every rank gets them)."""
        return self.x[torch.as_tensor(idx, dtype=torch.long,
                                      device=self.x.device)].clone()

    def local_sums(self, values: torch.Tensor) -> List[float]:
        """Every rank's ``values.sum()`` (float64), in rank order."""
        return [float(values.sum())]

    def variance_mean(self) -> float:
        """Mean over features of the per-feature variance of all rows."""
        return float(self.x.var(0, unbiased=False).mean())


class ProcessGroupShards(LocalShards):
    """The rows of this rank's block; the others' through mmengine's dist
    helpers (the default process group)."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x
        self.world_size = dist.get_world_size()
        self.rank = rank = dist.get_rank()
        n = torch.tensor([x.shape[0]], dtype=torch.long, device=x.device)
        self.sizes = [int(s) for s in dist.all_gather(n)]
        self.offset = sum(self.sizes[:rank])
        self.total = sum(self.sizes)

    def sum(self, t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t, op='sum')
        return t

    def min(self, t: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(t, op='min')
        return t

    def cat(self, t: torch.Tensor) -> torch.Tensor:
        padded = t.new_zeros((max(self.sizes), ) + tuple(t.shape[1:]))
        padded[:t.shape[0]] = t
        parts = dist.all_gather(padded)
        return torch.cat([p[:n] for p, n in zip(parts, self.sizes)])

    def rows(self, idx: Sequence[int]) -> torch.Tensor:
        idx = torch.as_tensor(idx, dtype=torch.long, device=self.x.device)
        out = self.x.new_zeros(idx.numel(), self.x.shape[1])
        mine = (idx >= self.offset) & (idx < self.offset + self.x.shape[0])
        out[mine] = self.x[idx[mine] - self.offset]
        return self.sum(out)

    def local_sums(self, values: torch.Tensor) -> List[float]:
        return [float(p) for p in dist.all_gather(
            values.sum().double().reshape(1))]

    def variance_mean(self) -> float:
        x = self.x.double()
        stats = torch.stack([x.sum(0), x.pow(2).sum(0)])
        self.sum(stats)
        mean = stats[0] / self.total
        return float((stats[1] / self.total - mean.pow(2)).mean())


def shards_of(x: torch.Tensor, sharded: bool) -> LocalShards:
    """:class:`ProcessGroupShards` of ``x`` where ``sharded`` and a process
    group of several ranks exists, else :class:`LocalShards`."""
    if sharded and dist.get_world_size() > 1:
        return ProcessGroupShards(x)
    return LocalShards(x)
