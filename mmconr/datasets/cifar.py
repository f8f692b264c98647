"""CIFAR-10 and CIFAR-20 over train + test, as deep clustering uses them."""
import os.path as osp
import pickle
from urllib.error import URLError

from mmengine.dataset import ConcatDataset
from mmengine.fileio import get, join_path
from mmpretrain.datasets import CIFAR10, CIFAR100

from mmconr.registry import DATASETS

# CIFAR-100 fine label (0..99) -> superclass (0..19), as used by the field;
# identical to the ``coarse_labels`` stored in CIFAR-100's own files.
CIFAR100_FINE_TO_COARSE = (
    4, 1, 14, 8, 0, 6, 7, 7, 18, 3, 3, 14, 9, 18, 7, 11, 3, 9, 7, 11,
    6, 11, 5, 10, 7, 6, 13, 15, 3, 15, 0, 11, 1, 10, 12, 14, 16, 9, 11, 5,
    5, 19, 8, 8, 15, 13, 14, 17, 18, 10, 16, 4, 17, 4, 2, 0, 17, 4, 18, 17,
    10, 3, 2, 12, 12, 16, 12, 1, 9, 19, 2, 10, 0, 1, 16, 12, 9, 13, 15, 13,
    16, 19, 2, 4, 6, 19, 5, 5, 8, 19, 18, 1, 2, 15, 6, 0, 17, 8, 14, 13)

CIFAR20_CLASSES = (
    'aquatic_mammals', 'fish', 'flowers', 'food_containers',
    'fruit_and_vegetables', 'household_electrical_devices',
    'household_furniture', 'insects', 'large_carnivores',
    'large_man-made_outdoor_things', 'large_natural_outdoor_scenes',
    'large_omnivores_and_herbivores', 'medium_mammals',
    'non-insect_invertebrates', 'people', 'reptiles', 'small_mammals',
    'trees', 'vehicles_1', 'vehicles_2')


class CIFAR20Split(CIFAR100):
    """One split of CIFAR-100 labelled with its 20 superclasses."""
    METAINFO = {'classes': CIFAR20_CLASSES}

    def load_data_list(self):
        data_list = super().load_data_list()  # fine labels
        files = self.train_list if self.split == 'train' else self.test_list
        coarse = []
        for file_name, _ in files:
            path = join_path(self.data_prefix['root'], self.base_folder,
                             file_name)
            entry = pickle.loads(get(path), encoding='latin1')
            coarse.extend(entry.get('coarse_labels', []))
        for i, info in enumerate(data_list):
            mapped = CIFAR100_FINE_TO_COARSE[info['gt_label']]
            if coarse and coarse[i] != mapped:
                raise ValueError(
                    f'CIFAR-20: image {i} of the {self.split} split has fine '
                    f"label {info['gt_label']} -> superclass {mapped}, but "
                    f'the file says coarse label {coarse[i]}')
            info['gt_label'] = mapped
        return data_list


class _SplitConcat(ConcatDataset):
    """Concatenation of named splits with ``sample_idx`` running over the
    whole concatenation (the index k-means pseudo labels are stored by)."""
    split_cls = None
    all_splits = ()

    def __init__(self, splits=None, **kwargs):
        splits = tuple(splits or self.all_splits)
        if not splits or not set(splits) <= set(self.all_splits):
            raise ValueError(
                f'splits must be a non-empty subset of {self.all_splits}, '
                f'got {splits}')
        datasets = []
        for split in splits:
            self._check_files(split, kwargs)
            try:
                datasets.append(self.split_cls(split=split, **kwargs))
            except (URLError, OSError) as err:  # failed download
                raise RuntimeError(
                    f'{type(self).__name__}: the {split} split is not in '
                    f"{kwargs.get('data_root')!r} and downloading "
                    f'{self.split_cls.url} failed ({err}); download it by '
                    'hand (docs/datasets.md)') from err
        super().__init__(datasets)

    def _check_files(self, split, kwargs) -> None:
        """Name a missing data root / missing files before any work (and
        before mmpretrain tries to download without being allowed to)."""
        root = kwargs.get('data_root') or kwargs.get('data_prefix')
        if not root or '://' in str(root):
            return  # mmpretrain names an unset root; remote roots: as is
        name = type(self).__name__
        download = kwargs.get('download', True)
        if not osp.isdir(root) and not download:
            raise FileNotFoundError(
                f"{name}: data root '{root}' does not exist (see "
                'docs/datasets.md, or set download=True)')
        files = (self.split_cls.train_list
                 if split == 'train' else self.split_cls.test_list)
        missing = [
            name_ for name_, _ in files
            if not osp.isfile(osp.join(root, self.split_cls.base_folder,
                                       name_))
        ]
        if missing and not download:
            raise FileNotFoundError(
                f"{name}: {len(missing)} file(s) of the {split} split missing "
                f"in '{osp.join(root, self.split_cls.base_folder)}': "
                f"{', '.join(missing)} (see docs/datasets.md, or set "
                'download=True)')

    def __getitem__(self, idx: int) -> dict:
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        data = self.datasets[dataset_idx][sample_idx]
        data['data_samples'].set_metainfo(dict(sample_idx=idx))
        return data


@DATASETS.register_module()
class CIFAR10Whole(_SplitConcat):
    """CIFAR-10's 50k train + 10k test images as one 60k-image dataset.

    The deep-clustering protocol (and the paper, §4.1) trains and evaluates
    on both splits; ``splits=('train',)`` keeps the train split only. Sample
    indices run over the concatenation (train first). Other keyword
    arguments (``data_root``, ``pipeline``, ``download``...) go to
    :class:`mmpretrain.datasets.CIFAR10`.
    """
    split_cls = CIFAR10
    all_splits = ('train', 'test')


@DATASETS.register_module()
class CIFAR20(_SplitConcat):
    """CIFAR-100 with its 20 superclasses (CIFAR-20), train + test (60k).

    Labels come from :data:`CIFAR100_FINE_TO_COARSE` and are checked against
    the ``coarse_labels`` of CIFAR-100's files where those are present.
    ``splits=('train',)`` keeps the train split only.
    """
    split_cls = CIFAR20Split
    all_splits = ('train', 'test')
