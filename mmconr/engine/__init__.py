import mmpretrain.engine  # noqa: F401

from .hooks import (BoundaryFilterHook, ConAffNeckHook, EpochSeedHook,
                    extract_dataset_features)

__all__ = [
    'BoundaryFilterHook', 'ConAffNeckHook', 'EpochSeedHook',
    'extract_dataset_features'
]
