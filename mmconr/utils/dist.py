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
