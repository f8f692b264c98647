from .connr import ConNR
from .connr_variants import ConNRMoCo, ConNRSimSiam
from .group_aware import GroupAwareMixin

__all__ = ['ConNR', 'ConNRMoCo', 'ConNRSimSiam', 'GroupAwareMixin']
