import mmpretrain.models  # noqa: F401  (registers BYOL, ResNet, necks, ...)

from .algorithms import ConNR, ConNRMoCo, ConNRSimSiam, GroupAwareMixin
from .boundary import boundary_ratio, keep_mask, num_kept, relaxed_fraction
from .heads import GroupAwareBYOLHead, GroupAwareContrastiveHead
from .losses import (GroupAwareCosineLoss, GroupAwareInfoNCELoss,
                     group_aware_cosine_loss, group_aware_infonce_loss)
from .neighborhoods import (ConAffNeighborhood, LocalNeighborhood,
                            conaff_affinity, conaff_neighbors, local_neighbors)
from .utils import PortableSyncBatchNorm, sync_batch_stats

__all__ = [
    'ConNR', 'ConNRSimSiam', 'ConNRMoCo', 'GroupAwareMixin',
    'GroupAwareBYOLHead', 'GroupAwareContrastiveHead', 'GroupAwareCosineLoss',
    'GroupAwareInfoNCELoss', 'group_aware_cosine_loss',
    'group_aware_infonce_loss', 'ConAffNeighborhood', 'LocalNeighborhood',
    'conaff_affinity', 'conaff_neighbors', 'local_neighbors',
    'boundary_ratio', 'keep_mask', 'num_kept', 'relaxed_fraction',
    'PortableSyncBatchNorm', 'sync_batch_stats'
]
