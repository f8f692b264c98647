from .group_aware_byol_head import (GroupAwareBYOLHead,
                                    GroupAwareContrastiveHead,
                                    group_aware_cosine_loss,
                                    group_aware_infonce_loss)

__all__ = [
    'GroupAwareBYOLHead', 'GroupAwareContrastiveHead',
    'group_aware_cosine_loss', 'group_aware_infonce_loss'
]
