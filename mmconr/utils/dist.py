"""Small distributed helpers on top of mmengine.dist (no-ops without dist)."""
from typing import Tuple

import torch
from mmengine import dist


def gather_global_batch(tensor: torch.Tensor) -> Tuple[torch.Tensor, int]:
    """All-gather rows of ``tensor`` from every rank, without gradient.

    Ranks may hold different numbers of rows (e.g. a last batch); they are
    padded for the collective and unpadded after.

    Returns:
        (the rows of all ranks concatenated in rank order, the offset of
        this rank's first row in it).
    """
    if dist.get_world_size() == 1:
        return tensor.detach(), 0
    tensor = tensor.detach().contiguous()
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [int(s) for s in dist.all_gather(size)]
    max_size = max(sizes)
    if tensor.shape[0] < max_size:
        pad = tensor.new_zeros((max_size - tensor.shape[0], ) +
                               tuple(tensor.shape[1:]))
        tensor = torch.cat([tensor, pad])
    parts = dist.all_gather(tensor)
    rank = dist.get_rank()
    gathered = torch.cat([p[:s] for p, s in zip(parts, sizes)])
    return gathered, sum(sizes[:rank])


def _gather_in_sampler_order(tensor: torch.Tensor) -> torch.Tensor:
    """All ranks' rows (equal counts) in the order one process would hold
    the same global batch: a distributed sampler deals position ``q`` to
    rank ``q % W`` as its row ``q // W``."""
    world = dist.get_world_size()
    if world == 1:
        return tensor
    # the sizes first: all_gather of unequal tensors would hang or corrupt
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [int(s) for s in dist.all_gather(size)]
    if len(set(sizes)) > 1:
        raise ValueError('shuffled BN needs the same batch size on every '
                         f'rank, got {sizes} (set drop_last=True)')
    parts = dist.all_gather(tensor.contiguous())
    return torch.stack(parts, dim=1).flatten(0, 1)


@torch.no_grad()
def shuffled_forward(fn, inputs: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
    """``fn`` (a no-grad network) on a shuffled global batch ("shuffled
    BN", as the official BYOL / ConNR code and MoCo): the global batch is
    permuted, each rank runs ``fn`` on its share of the permuted batch, and
    every rank gets back the outputs of its own rows, in their order.

    The permutation is drawn on the CPU from ``generator`` (the same
    stream on every rank; rank 0's is broadcast to be safe) over the
    positions of the global batch in sampler order, so 1 x B, 2 x B/2 and
    4 x B/4 processes give every row the same batch-norm group.
    """
    world, rank = dist.get_world_size(), dist.get_rank()
    batch = _gather_in_sampler_order(inputs)
    perm = torch.randperm(batch.shape[0], generator=generator)
    perm = perm.to(inputs.device)
    if world > 1:
        dist.broadcast(perm, src=0)
    out = fn(batch[perm][rank::world])
    out_all = _gather_in_sampler_order(out)
    restored = torch.empty_like(out_all)
    restored[perm] = out_all
    return restored[rank::world]
