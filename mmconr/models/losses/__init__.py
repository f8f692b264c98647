"""Group-aware losses: mmpretrain's losses (their ``forward``, the
instance stage) with a ``group`` method for the group stage, held by the
heads as ``loss_module``."""
from .group_aware_cosine_loss import (GroupAwareCosineLoss,
                                      group_aware_cosine_loss)
from .group_aware_infonce_loss import (GroupAwareInfoNCELoss,
                                       group_aware_infonce_loss)

__all__ = [
    'GroupAwareCosineLoss', 'group_aware_cosine_loss',
    'GroupAwareInfoNCELoss', 'group_aware_infonce_loss'
]
