from .ema import TargetEMA
from .group_bn import GroupBatchNorm, group_layout
from .sync_bn import PortableSyncBatchNorm, sync_batch_stats

__all__ = [
    'GroupBatchNorm', 'group_layout', 'PortableSyncBatchNorm',
    'sync_batch_stats', 'TargetEMA'
]
