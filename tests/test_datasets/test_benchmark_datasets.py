import os
import os.path as osp

import numpy as np
import pytest

from mmconr.datasets import (CIFAR20, CIFAR100_FINE_TO_COARSE,
                             IMAGENET10_WNIDS, IMAGENET_DOGS_WNIDS, STL10,
                             ImageNet10, ImageNetDogs, TinyImageNet)
from tests.fake_data import (write_cifar100, write_imagenet_tree, write_stl10,
                             write_tiny_imagenet)
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACK = [dict(type='PackInputs')]
LOAD = [dict(type='CheckedLoadImageFromFile'), dict(type='PackInputs')]


@pytest.fixture
def no_md5(monkeypatch):
    from mmpretrain.datasets import CIFAR10

    # fake files cannot match the official md5 sums
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)


def test_cifar20_maps_fine_to_superclasses(tmp_path, no_md5):
    import pickle
    write_cifar100(tmp_path)
    ds = CIFAR20(data_root=str(tmp_path), download=False, pipeline=PACK)
    assert len(ds) == 24 and len(ds.metainfo["classes"]) == 20
    with open(tmp_path / 'cifar-100-python' / 'train', 'rb') as f:
        fine = pickle.load(f)['fine_labels']
    labels = [int(ds[i]["data_samples"].gt_label) for i in range(16)]
    assert labels == [CIFAR100_FINE_TO_COARSE[v] for v in fine]
    assert [ds[i]["data_samples"].sample_idx for i in range(24)] == list(
        range(24))


def test_cifar20_table_disagreeing_with_file_is_an_error(tmp_path, no_md5):
    import pickle
    write_cifar100(tmp_path)
    path = tmp_path / 'cifar-100-python' / 'train'
    with open(path, 'rb') as f:
        entry = pickle.load(f)
    entry['coarse_labels'][0] = (entry['coarse_labels'][0] + 1) % 20
    with open(path, 'wb') as f:
        pickle.dump(entry, f)
    with pytest.raises(ValueError, match='image 0 of the train split'):
        CIFAR20(data_root=str(tmp_path), download=False, pipeline=PACK)


def test_stl10_reads_column_major_binaries(tmp_path):
    _, images = write_stl10(tmp_path)
    ds = STL10(data_root=str(tmp_path), pipeline=PACK)
    assert len(ds) == 20
    item = ds[7]  # second test image
    assert item['inputs'].shape == (3, 96, 96)
    np.testing.assert_array_equal(item['inputs'].permute(1, 2, 0).numpy(),
                                  images['test'][1])
    assert int(item['data_samples'].gt_label) == 1  # file label 2 -> 1
    assert int(ds[15]['data_samples'].gt_label) == -1  # unlabeled
    labelled = STL10(data_root=str(tmp_path), splits=('train', 'test'),
                     pipeline=PACK)
    assert len(labelled) == 12


def test_stl10_truncated_file_is_named(tmp_path):
    write_stl10(tmp_path)
    path = tmp_path / 'stl10_binary' / 'train_X.bin'
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match='train_X.bin has .* truncated'):
        STL10(data_root=str(tmp_path), pipeline=PACK)
    with pytest.raises(FileNotFoundError, match='test_X.bin not found'):
        STL10(data_root=str(tmp_path / 'nowhere'), splits=('test', ))


@pytest.mark.parametrize('cls,wnids', [(ImageNet10, IMAGENET10_WNIDS),
                                       (ImageNetDogs, IMAGENET_DOGS_WNIDS)])
def test_imagenet_subsets_in_imagefolder_order(tmp_path, cls, wnids):
    write_imagenet_tree(tmp_path, wnids)
    os.makedirs(tmp_path / 'n99999999')  # other classes are ignored
    with pytest.warns(UserWarning, match='expected 1300 images per class'):
        ds = cls(data_root=str(tmp_path), pipeline=LOAD)
    assert len(ds) == 2 * len(wnids)
    assert ds.metainfo['classes'] == tuple(sorted(wnids))
    last = ds[len(ds) - 1]
    assert int(last['data_samples'].gt_label) == len(wnids) - 1
    assert osp.basename(last['data_samples'].img_path).startswith(
        sorted(wnids)[-1])


def test_imagenet_subset_missing_or_empty_class_is_an_error(tmp_path):
    write_imagenet_tree(tmp_path, IMAGENET10_WNIDS[1:])
    with pytest.raises(FileNotFoundError, match='1 of 10 class folders '
                       f'missing .*{IMAGENET10_WNIDS[0]}'):
        ImageNet10(data_root=str(tmp_path))
    os.makedirs(tmp_path / IMAGENET10_WNIDS[0])
    with pytest.raises(ValueError, match=f'{IMAGENET10_WNIDS[0]} holds no'):
        ImageNet10(data_root=str(tmp_path))


def test_tiny_imagenet_train_and_val(tmp_path):
    _, wnids = write_tiny_imagenet(tmp_path, num_classes=5, per_class=2,
                                   val=2)
    ds = TinyImageNet(data_root=str(tmp_path), pipeline=LOAD)
    assert len(ds) == 10 and ds.metainfo['classes'] == tuple(wnids)
    assert ds[0]['inputs'].shape == (3, 64, 64)
    both = TinyImageNet(data_root=str(tmp_path), splits=('train', 'val'),
                        pipeline=LOAD)
    assert len(both) == 12
    assert int(both[11]['data_samples'].gt_label) == 3  # wnids[1 * 3]
    with pytest.raises(FileNotFoundError, match='train does not exist'):
        TinyImageNet(data_root=str(tmp_path / 'nowhere'))


def run_converter(capsys, *args):
    """build_imagenet_subset.py ARGS in this process: (exit status,
    stdout, stderr); its errors are SystemExit('error: ...')."""
    tool = load_tool('dataset_converters/build_imagenet_subset')
    capsys.readouterr()
    try:
        code, err = tool.main(list(args)), ''
    except SystemExit as exc:
        code, err = 1, str(exc.code)
    out = capsys.readouterr()
    return code, out.out, out.err + err


def test_build_imagenet_subset_tool(tmp_path, capsys):
    train = tmp_path / 'train'
    write_imagenet_tree(train, IMAGENET_DOGS_WNIDS + ('n01440764', ))
    out = tmp_path / 'imagenet_dogs'
    code, stdout, stderr = run_converter(capsys, str(train), str(out),
                                         '--subset', 'imagenet_dogs')
    assert code == 0, stderr
    assert 'imagenet_dogs: 15 classes, 30 images' in stdout
    assert 'do not have 1300 images' in stdout
    assert sorted(os.listdir(out)) == sorted(IMAGENET_DOGS_WNIDS)
    assert all(osp.islink(out / w) for w in IMAGENET_DOGS_WNIDS)
    with pytest.warns(UserWarning):
        assert len(ImageNetDogs(data_root=str(out))) == 30
    # classes missing (the tree holds only one ImageNet-10 class): nothing
    # is created
    code, _, stderr = run_converter(capsys, str(train), str(tmp_path / 'in10'),
                                    '--subset', 'imagenet10')
    assert code != 0
    assert '9 class folders missing' in stderr
    assert IMAGENET10_WNIDS[0] in stderr
    assert not (tmp_path / 'in10').exists()
    code, _, stderr = run_converter(capsys, str(train),
                                    str(tmp_path / 'strict'), '--subset',
                                    'imagenet_dogs', '--strict')
    assert code != 0 and 'do not have 1300' in stderr


SHARED = osp.join(osp.dirname(ROOT), 'shared', 'data')


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED, 'cifar10-test-jpg')),
                    reason='../shared/data is absent')
def test_real_cifar10_test_jpgs_load():
    from mmpretrain.datasets import CustomDataset
    ds = CustomDataset(data_root=osp.join(SHARED, 'cifar10-test-jpg'),
                       pipeline=LOAD)
    assert len(ds) == 10000
    assert ds.metainfo['classes'][:3] == ('airplane', 'automobile', 'bird')
    assert ds[9999]['inputs'].shape == (3, 32, 32)
    assert int(ds[9999]['data_samples'].gt_label) == 9


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED, 'imagenet-samples')),
                    reason='../shared/data is absent')
@pytest.mark.parametrize('cls,folder,size', [
    (ImageNet10, 'imagenet10', 96), (ImageNetDogs, 'imagenet-dogs', 224)])
def test_real_imagenet_samples_load(tmp_path, cls, folder, size):
    """One real image per class, laid out as an ImageNet train tree, read by
    the subset class and the test pipeline of its config."""
    from mmengine import Config
    src = osp.join(SHARED, 'imagenet-samples', folder)
    for name in sorted(os.listdir(src)):
        wnid = name.split('_')[0]
        os.makedirs(tmp_path / wnid, exist_ok=True)
        os.symlink(osp.join(src, name), tmp_path / wnid / name)
    cfg_name = 'imagenet10' if folder == 'imagenet10' else 'imagenet_dogs'
    cfg = Config.fromfile(
        osp.join(ROOT, f'configs/_base_/datasets/{cfg_name}.py'))
    ds = cls(data_root=str(tmp_path), images_per_class=1,
             pipeline=cfg.test_pipeline)
    assert len(ds) == len(ds.metainfo['classes'])
    for i in range(len(ds)):
        item = ds[i]
        assert item['inputs'].shape == (3, size, size)
        assert int(item['data_samples'].gt_label) == i
