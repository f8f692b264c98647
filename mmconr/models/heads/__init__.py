from .group_aware_byol_head import GroupAwareBYOLHead, group_aware_cosine_loss

__all__ = ['GroupAwareBYOLHead', 'group_aware_cosine_loss']
