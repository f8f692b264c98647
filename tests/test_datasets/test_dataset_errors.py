"""A dataset root that is missing or empty stops with a message naming it."""

import pytest

from mmconr.registry import DATASETS


@pytest.mark.parametrize('ds_type', ['CIFAR10Whole', 'CIFAR20', 'STL10',
                                     'ImageNet10', 'ImageNetDogs',
                                     'TinyImageNet'])
@pytest.mark.parametrize('root_kind', ['missing', 'empty'])
def test_missing_or_empty_data_root(tmp_path, ds_type, root_kind):
    root = tmp_path / 'data'
    if root_kind == 'empty':
        root.mkdir()
    cfg = dict(type=ds_type, data_root=str(root), pipeline=[])
    if ds_type.startswith('CIFAR'):
        cfg['download'] = False
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(cfg)
    assert str(root) in str(err.value)
    assert ds_type in str(err.value) or 'STL-10' in str(err.value)
