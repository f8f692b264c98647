import mmpretrain.datasets  # noqa: F401

from .cifar import CIFAR20, CIFAR100_FINE_TO_COARSE, CIFAR10Whole
from .digits import Digits
from .image_folder import UnlabeledImageFolder
from .imagenet_subsets import (IMAGENET10_WNIDS, IMAGENET_DOGS_WNIDS,
                               ImageNet10, ImageNetDogs, ImageNetSubset,
                               TinyImageNet)
from .samplers import ContiguousShardSampler
from .stl10 import STL10
from .transforms import (CheckedLoadImageFromFile, CorruptImageError,
                         check_image_bytes)

__all__ = [
    'CIFAR10Whole', 'CIFAR20', 'CIFAR100_FINE_TO_COARSE', 'Digits', 'STL10',
    'UnlabeledImageFolder',
    'ImageNetSubset', 'ImageNet10', 'ImageNetDogs', 'TinyImageNet',
    'IMAGENET10_WNIDS', 'IMAGENET_DOGS_WNIDS', 'CorruptImageError',
    'CheckedLoadImageFromFile', 'check_image_bytes', 'ContiguousShardSampler'
]
