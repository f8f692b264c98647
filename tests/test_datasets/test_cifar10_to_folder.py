"""tools/dataset_converters/cifar10_to_folder.py: every image of the split,
exact (PNG), in its class folder, read back by UnlabeledImageFolder."""
import numpy as np
from mmpretrain.datasets import CIFAR10
from PIL import Image

from tests.fake_data import write_cifar10
from tests.tool_loader import load_tool


def test_test_split_becomes_a_class_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)
    root = write_cifar10(str(tmp_path / 'cifar'), per_batch=12)
    out = tmp_path / 'folder'
    tool = load_tool('dataset_converters/cifar10_to_folder')
    assert tool.main([root, str(out), '--format', 'png']) == 0
    assert '12 images of the test split' in capsys.readouterr().out
    # the reference: the test batch as mmpretrain reads it
    ref = CIFAR10(data_root=root, split='test', pipeline=[])
    classes = ref.metainfo['classes']
    seen = {}
    for i in range(len(ref)):
        info = ref.get_data_info(i)
        name = classes[int(info['gt_label'])]
        index = seen.get(name, 0)
        seen[name] = index + 1
        written = np.asarray(Image.open(out / name / f'{index:04d}.png'))
        assert np.array_equal(written, info['img'])  # RGB, lossless
    assert sum(1 for _ in out.rglob('*.png')) == 12
    from mmconr.datasets import UnlabeledImageFolder
    folder = UnlabeledImageFolder(data_root=str(out), labels_from='subfolder',
                                  pipeline=[])
    assert len(folder) == 12
    labels = sorted(
        folder.metainfo['classes'][int(folder.get_data_info(i)['gt_label'])]
        for i in range(len(folder)))
    assert labels == sorted(n for n, c in seen.items() for _ in range(c))
    # an existing, non-empty folder is refused, and left as it was
    assert tool.main([root, str(out)]) == 1
    assert 'exists and is not empty' in capsys.readouterr().err
    assert sum(1 for _ in out.rglob('*')) == 12 + len(seen)
    import os
    assert os.stat(out).st_mode & 0o777 == 0o777 & ~current_umask()


def current_umask():
    import os
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_missing_batches_are_named(tmp_path, capsys):
    tool = load_tool('dataset_converters/cifar10_to_folder')
    assert tool.main([str(tmp_path / 'none'), str(tmp_path / 'out')]) == 1
    assert 'does not exist' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()
