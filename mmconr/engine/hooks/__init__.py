from .boundary_filter_hook import BoundaryFilterHook
from .conaff_neck_hook import ConAffNeckHook
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .safety_hooks import (CheckpointCheckHook, NonFiniteLossHook,
                           checkpoint_mismatch)

__all__ = [
    'BoundaryFilterHook', 'ConAffNeckHook', 'EpochSeedHook',
    'CheckpointCheckHook', 'NonFiniteLossHook', 'checkpoint_mismatch',
    'epoch_seed'
]
