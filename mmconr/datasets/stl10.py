"""STL-10 from its official binary files."""
import os.path as osp

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmconr.registry import DATASETS

STL10_CLASSES = ('airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse',
                 'monkey', 'ship', 'truck')


@DATASETS.register_module()
class STL10(BaseDataset):
    """STL-10 read from ``stl10_binary/{split}_X.bin`` (and ``_y.bin``).

    Images are 96x96x3 uint8 stored column-major; they are memory-mapped,
    not loaded. Labels 1..10 become 0..9; the ``unlabeled`` split has label
    -1, which :func:`mmconr.evaluation.cluster_metrics` ignores. The paper
    trains on train + test (13k labelled) and the 100k unlabelled images.

    Args:
        data_root: folder holding ``stl10_binary/``.
        splits: any of ``'train'``, ``'test'``, ``'unlabeled'``, in order.
    """
    METAINFO = {'classes': STL10_CLASSES}
    SPLITS = ('train', 'test', 'unlabeled')
    IMAGE_BYTES = 96 * 96 * 3

    def __init__(self,
                 data_root: str = '',
                 splits=('train', 'test', 'unlabeled'),
                 **kwargs):
        splits = tuple(splits)
        if not splits or not set(splits) <= set(self.SPLITS):
            raise ValueError(f'splits must be a non-empty subset of '
                             f'{self.SPLITS}, got {splits}')
        self.splits = splits
        self._images = {}
        kwargs.setdefault('serialize_data', False)
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def _path(self, name: str) -> str:
        return osp.join(self.data_root, 'stl10_binary', name)

    def load_data_list(self):
        data_list = []
        for split in self.splits:
            x_path = self._path(f'{split}_X.bin')
            if not osp.isfile(x_path):
                raise FileNotFoundError(
                    f'STL-10: {x_path} not found; see docs/datasets.md')
            size = osp.getsize(x_path)
            if size == 0 or size % self.IMAGE_BYTES:
                raise ValueError(
                    f'STL-10: {x_path} has {size} bytes, not a positive '
                    f'multiple of {self.IMAGE_BYTES} (one 96x96x3 image); '
                    'the file is truncated or corrupt')
            num = size // self.IMAGE_BYTES
            if split == 'unlabeled':
                labels = np.full(num, -1, dtype=np.int64)
            else:
                y_path = self._path(f'{split}_y.bin')
                if not osp.isfile(y_path):
                    raise FileNotFoundError(f'STL-10: {y_path} not found')
                labels = np.fromfile(y_path, dtype=np.uint8).astype(
                    np.int64) - 1
                if len(labels) != num:
                    raise ValueError(
                        f'STL-10: {y_path} has {len(labels)} labels for '
                        f'{num} images in {x_path}')
                if labels.min() < 0 or labels.max() > 9:
                    raise ValueError(f'STL-10: labels in {y_path} must be '
                                     '1..10')
            data_list.extend(
                dict(split=split, index=i, gt_label=int(label))
                for i, label in enumerate(labels))
        return data_list

    def _split_images(self, split: str) -> np.ndarray:
        if split not in self._images:
            self._images[split] = np.memmap(
                self._path(f'{split}_X.bin'), dtype=np.uint8,
                mode='r').reshape(-1, 3, 96, 96)
        return self._images[split]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        image = self._split_images(info['split'])[info['index']]
        # column-major (C, W, H) -> row-major (H, W, C)
        info['img'] = np.ascontiguousarray(image.transpose(2, 1, 0))
        return info

    def __getstate__(self):
        # worker processes re-open the memory maps instead of copying them
        state = dict(self.__dict__)
        state['_images'] = {}
        return state
