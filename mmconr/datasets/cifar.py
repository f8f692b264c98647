"""CIFAR-10 over train + test, as deep clustering uses it."""
from mmengine.dataset import ConcatDataset
from mmpretrain.datasets import CIFAR10

from mmconr.registry import DATASETS


@DATASETS.register_module()
class CIFAR10Whole(ConcatDataset):
    """CIFAR-10's 50k train + 10k test images as one 60k-image dataset.

    The deep-clustering protocol (and the paper) trains and evaluates on
    both splits; ``splits=('train',)`` keeps the train split only. Sample
    indices run over the concatenation (train first). Extra keyword
    arguments (``data_root``, ``pipeline``, ``download``...) go to
    :class:`mmpretrain.datasets.CIFAR10`.
    """

    def __init__(self, splits=('train', 'test'), **kwargs):
        splits = tuple(splits)
        if not splits or not set(splits) <= {'train', 'test'}:
            raise ValueError(
                f"splits must be a non-empty subset of ('train', 'test'), "
                f'got {splits}')
        super().__init__(
            [CIFAR10(split=split, **kwargs) for split in splits])

    def __getitem__(self, idx: int) -> dict:
        dataset_idx, sample_idx = self._get_ori_dataset_idx(idx)
        data = self.datasets[dataset_idx][sample_idx]
        data['data_samples'].set_metainfo(dict(sample_idx=idx))
        return data
