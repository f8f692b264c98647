import mmpretrain.engine  # noqa: F401

from .hooks import (BoundaryFilterHook, CheckpointCheckHook, ConAffNeckHook,
                    EpochSeedHook, NonFiniteLossHook)
from .runner_utils import (from_config, last_checkpoint, restart_workers,
                           set_pipeline, train_from_config)
from .schedulers import WarmupCosineLR, warmup_cosine_factor

__all__ = [
    'BoundaryFilterHook', 'CheckpointCheckHook', 'ConAffNeckHook',
    'EpochSeedHook', 'NonFiniteLossHook', 'from_config', 'last_checkpoint',
    'restart_workers', 'set_pipeline',
    'train_from_config', 'WarmupCosineLR',
    'warmup_cosine_factor'
]
