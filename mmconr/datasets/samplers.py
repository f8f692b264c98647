"""ContiguousShardSampler: rank r visits the r-th contiguous block of the
dataset indices, once each, in order (no padding, no shuffling)."""
from typing import Iterator, Optional

from mmengine.dist import get_dist_info
from torch.utils.data import Sampler

from mmconr.clustering.shards import shard_bounds
from mmconr.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ContiguousShardSampler(Sampler):
    """The feature pass of the sharded k-means
    (``BoundaryFilterHook(sharded_kmeans=True)``): each rank embeds its own
    block of rows, and the blocks in rank order are the dataset order, so
    the k-means over them equals the one-process k-means of the dataset.
    """

    def __init__(self, dataset, seed: Optional[int] = None) -> None:
        rank, world_size = get_dist_info()
        self.start, self.stop = shard_bounds(len(dataset), world_size, rank)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start

    def set_epoch(self, epoch: int) -> None:
        """Nothing to reshuffle (the Runner calls this every epoch)."""
