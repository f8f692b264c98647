import mmpretrain.datasets  # noqa: F401

from .cifar import CIFAR10Whole
from .digits import Digits

__all__ = ['CIFAR10Whole', 'Digits']
