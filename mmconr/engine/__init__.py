import mmpretrain.engine  # noqa: F401

from .hooks import (BoundaryFilterHook, CheckpointCheckHook, ConAffNeckHook,
                    EpochSeedHook, NonFiniteLossHook, extract_dataset_features)
from .schedulers import WarmupCosineLR, warmup_cosine_factor

__all__ = [
    'BoundaryFilterHook', 'CheckpointCheckHook', 'ConAffNeckHook',
    'EpochSeedHook', 'NonFiniteLossHook', 'extract_dataset_features',
    'WarmupCosineLR', 'warmup_cosine_factor'
]
