"""CheckedLoadImageFromFile names the file it cannot use."""
import os

import numpy as np
import pytest
from PIL import Image

from mmconr.datasets import CorruptImageError
from mmconr.registry import DATASETS, TRANSFORMS
from tests.fake_data import write_imagenet_tree


def jpeg_bytes(size=(40, 30), seed=0):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 255, size[::-1] + (3, ), np.uint8))
    path = f'/tmp/_mmconr_{os.getpid()}_{seed}.jpg'
    img.save(path, quality=90)
    with open(path, 'rb') as f:
        data = f.read()
    os.unlink(path)
    return data


@pytest.mark.parametrize('kind,match', [
    ('truncated', 'is truncated or corrupt'),
    ('empty', r'is empty \(0 bytes\)'),
    ('not-an-image', 'could not be decoded'),
])
def test_corrupt_image_names_the_file(tmp_path, kind, match):
    data = jpeg_bytes()
    content = dict(truncated=data[:len(data) // 2], empty=b'',
                   **{'not-an-image': b'this is a text file\n' * 20})[kind]
    path = tmp_path / f'{kind}.jpg'
    path.write_bytes(content)
    load = TRANSFORMS.build(dict(type='CheckedLoadImageFromFile'))
    with pytest.raises(CorruptImageError, match=match) as err:
        load(dict(img_path=str(path)))
    assert str(path) in str(err.value)
    # ignore_empty keeps mmcv's meaning: skip instead of failing
    skip = TRANSFORMS.build(
        dict(type='CheckedLoadImageFromFile', ignore_empty=True))
    assert skip(dict(img_path=str(path))) is None
    # an intact file still loads (and bytes after the JPEG end are fine)
    good = tmp_path / 'good.jpg'
    good.write_bytes(data + b'trailing bytes')
    assert load(dict(img_path=str(good)))['img'].shape == (30, 40, 3)


def test_corrupt_image_inside_a_dataset(tmp_path):
    wnids = [f'n0000000{i}' for i in range(3)]
    write_imagenet_tree(tmp_path, wnids, per_class=2)
    victim = sorted((tmp_path / wnids[1]).iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])
    dataset = DATASETS.build(
        dict(type='ImageNetSubset', data_root=str(tmp_path), wnids=wnids,
             images_per_class=2,
             pipeline=[dict(type='CheckedLoadImageFromFile'),
                       dict(type='PackInputs')]))
    with pytest.raises(CorruptImageError, match=str(victim)):
        for i in range(len(dataset)):
            dataset[i]
