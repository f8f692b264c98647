from .group_aware_heads import GroupAwareBYOLHead, GroupAwareContrastiveHead

__all__ = ['GroupAwareBYOLHead', 'GroupAwareContrastiveHead']
