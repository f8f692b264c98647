from .sync_bn import SyncBatchNorm, sync_batch_stats

__all__ = ['SyncBatchNorm', 'sync_batch_stats']
