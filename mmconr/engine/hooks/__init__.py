from .boundary_filter_hook import BoundaryFilterHook, extract_dataset_features
from .conaff_neck_hook import ConAffNeckHook

__all__ = ['BoundaryFilterHook', 'ConAffNeckHook', 'extract_dataset_features']
