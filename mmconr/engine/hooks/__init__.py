from .boundary_filter_hook import BoundaryFilterHook, extract_dataset_features
from .conaff_neck_hook import ConAffNeckHook
from .epoch_seed_hook import EpochSeedHook, epoch_seed

__all__ = [
    'BoundaryFilterHook', 'ConAffNeckHook', 'EpochSeedHook',
    'extract_dataset_features', 'epoch_seed'
]
