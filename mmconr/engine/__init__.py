import mmpretrain.engine  # noqa: F401

from .hooks import (BoundaryFilterHook, CheckpointCheckHook, ConAffNeckHook,
                    EpochSeedHook, NonFiniteLossHook, extract_dataset_features)

__all__ = [
    'BoundaryFilterHook', 'CheckpointCheckHook', 'ConAffNeckHook',
    'EpochSeedHook', 'NonFiniteLossHook', 'extract_dataset_features'
]
