"""ImageNet-10, ImageNet-Dogs and Tiny-ImageNet from their folder trees."""
import os
import os.path as osp
import warnings
from typing import Sequence

from mmpretrain.datasets import BaseDataset

from mmconr.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')

# The subsets of the deep-clustering literature (DAC / ProPos / ConNR).
IMAGENET10_WNIDS = ('n02056570', 'n02085936', 'n02128757', 'n02690373',
                    'n02692877', 'n03095699', 'n04254680', 'n04285008',
                    'n04467665', 'n07747607')
IMAGENET_DOGS_WNIDS = ('n02085936', 'n02086646', 'n02088238', 'n02091467',
                       'n02097130', 'n02099601', 'n02101388', 'n02101556',
                       'n02102177', 'n02105056', 'n02105412', 'n02105855',
                       'n02107142', 'n02110958', 'n02112137')


def list_images(folder: str) -> list:
    """Image files of ``folder`` (not recursive), sorted as ImageFolder."""
    return sorted(
        osp.join(folder, name) for name in os.listdir(folder)
        if name.lower().endswith(IMG_EXTENSIONS))


@DATASETS.register_module()
class ImageNetSubset(BaseDataset):
    """Classes of an ImageNet ``train/<wnid>/*.JPEG`` tree chosen by wnid.

    Classes are in ImageFolder order (sorted wnids); files sorted per class.
    A missing or empty class folder is an error that names it.

    Args:
        data_root: the ImageNet ``train`` folder (or a tree built by
            ``tools/dataset_converters/build_imagenet_subset.py``).
        wnids: the classes.
        images_per_class: expected count (1,300 for these subsets); another
            count gives a warning, not an error.
    """

    def __init__(self,
                 data_root: str = '',
                 wnids: Sequence[str] = (),
                 images_per_class: int = 1300,
                 **kwargs):
        if not wnids:
            raise ValueError('ImageNetSubset needs a non-empty wnids list')
        self.wnids = tuple(sorted(wnids))
        self.images_per_class = images_per_class
        kwargs.setdefault('metainfo', {'classes': self.wnids})
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        root = self.data_root
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'{type(self).__name__}: data root {root!r} does not exist')
        missing = [w for w in self.wnids if not osp.isdir(osp.join(root, w))]
        if missing:
            raise FileNotFoundError(
                f'{type(self).__name__}: {len(missing)} of {len(self.wnids)} '
                f'class folders missing in {root}: {", ".join(missing)}')
        data_list, counts = [], {}
        for label, wnid in enumerate(self.wnids):
            files = list_images(osp.join(root, wnid))
            if not files:
                raise ValueError(f'{type(self).__name__}: class folder '
                                 f'{osp.join(root, wnid)} holds no images')
            counts[wnid] = len(files)
            data_list.extend(dict(img_path=f, gt_label=label) for f in files)
        odd = {w: n for w, n in counts.items() if n != self.images_per_class}
        if self.images_per_class and odd:
            warnings.warn(
                f'{type(self).__name__}: expected {self.images_per_class} '
                f'images per class; {len(odd)} classes differ, e.g. '
                f'{dict(list(odd.items())[:3])}')
        return data_list


@DATASETS.register_module()
class ImageNet10(ImageNetSubset):
    """ImageNet-10: 10 classes x 1,300 training images (13,000)."""

    def __init__(self, data_root: str = '', **kwargs):
        super().__init__(data_root=data_root, wnids=IMAGENET10_WNIDS,
                         **kwargs)


@DATASETS.register_module()
class ImageNetDogs(ImageNetSubset):
    """ImageNet-Dogs: 15 dog breeds x 1,300 training images (19,500)."""

    def __init__(self, data_root: str = '', **kwargs):
        super().__init__(data_root=data_root, wnids=IMAGENET_DOGS_WNIDS,
                         **kwargs)


@DATASETS.register_module()
class TinyImageNet(BaseDataset):
    """Tiny-ImageNet-200 (64x64): ``train/<wnid>/images/*.JPEG`` (100k) and
    optionally ``val/images`` labelled by ``val/val_annotations.txt`` (10k).

    Classes are the sorted train folders (ImageFolder order).

    Args:
        data_root: the ``tiny-imagenet-200`` folder.
        splits: ``('train',)`` (the paper's setting) and/or ``'val'``.
    """

    def __init__(self, data_root: str = '', splits=('train', ), **kwargs):
        splits = tuple(splits)
        if not splits or not set(splits) <= {'train', 'val'}:
            raise ValueError("splits must be a non-empty subset of "
                             f"('train', 'val'), got {splits}")
        self.splits = splits
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        train = osp.join(self.data_root, 'train')
        if not osp.isdir(train):
            raise FileNotFoundError(
                f'TinyImageNet: {train} does not exist; see docs/datasets.md')
        wnids = sorted(d for d in os.listdir(train)
                       if osp.isdir(osp.join(train, d)))
        if not wnids:
            raise ValueError(f'TinyImageNet: no class folders in {train}')
        self._metainfo['classes'] = tuple(wnids)
        label_of = {w: i for i, w in enumerate(wnids)}
        data_list = []
        if 'train' in self.splits:
            for wnid in wnids:
                files = list_images(osp.join(train, wnid, 'images'))
                if not files:
                    raise ValueError(
                        f'TinyImageNet: {osp.join(train, wnid, "images")} '
                        'holds no images')
                data_list.extend(
                    dict(img_path=f, gt_label=label_of[wnid]) for f in files)
        if 'val' in self.splits:
            ann = osp.join(self.data_root, 'val', 'val_annotations.txt')
            if not osp.isfile(ann):
                raise FileNotFoundError(f'TinyImageNet: {ann} not found')
            with open(ann) as f:
                for line_no, line in enumerate(f, 1):
                    fields = line.split('\t')
                    if len(fields) < 2 or fields[1] not in label_of:
                        raise ValueError(
                            f'TinyImageNet: {ann} line {line_no}: unknown '
                            f'class {fields[1] if len(fields) > 1 else ""!r}')
                    data_list.append(
                        dict(
                            img_path=osp.join(self.data_root, 'val',
                                              'images', fields[0]),
                            gt_label=label_of[fields[1]]))
        return data_list
