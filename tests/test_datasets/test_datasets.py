import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits

from mmconr.datasets import CIFAR10Whole, Digits


def test_digits_are_the_real_sklearn_digits():
    ds = Digits(scale=2, pipeline=[dict(type='PackInputs')])
    digits = load_digits()
    assert len(ds) == 1797
    item = ds[5]
    assert item['inputs'].shape == (3, 16, 16)
    assert item['data_samples'].sample_idx == 5
    assert int(item['data_samples'].gt_label) == digits.target[5]
    expected = np.round(digits.images[5] * 255 / 16).astype(np.uint8)
    assert (item['inputs'][0, ::2, ::2].numpy() == expected).all()
    with pytest.raises(ValueError, match='scale must be a positive integer'):
        Digits(scale=0)


def write_fake_cifar10(root, per_batch=4):
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for b, name in enumerate(names):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(b + i) % 10 for i in range(per_batch)]
        with open(folder / name, 'wb') as f:
            pickle.dump({'data': data, 'labels': labels}, f)
    with open(folder / 'batches.meta', 'wb') as f:
        pickle.dump({'label_names': [f'c{i}' for i in range(10)]}, f)


def test_cifar10_whole_concatenates_train_and_test(tmp_path, monkeypatch):
    from mmpretrain.datasets import CIFAR10
    write_fake_cifar10(tmp_path)
    # the fake files cannot match CIFAR-10's md5 sums
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)
    ds = CIFAR10Whole(
        data_root=str(tmp_path), download=False,
        pipeline=[dict(type='PackInputs')])
    assert len(ds) == 24  # 5 x 4 train + 4 test
    idx = [ds[i]['data_samples'].sample_idx for i in range(len(ds))]
    assert idx == list(range(24)), 'sample_idx runs over the concatenation'
    assert int(ds[20]['data_samples'].gt_label) == 5  # first test image
    train_only = CIFAR10Whole(
        splits=('train', ), data_root=str(tmp_path), download=False,
        pipeline=[dict(type='PackInputs')])
    assert len(train_only) == 20
    with pytest.raises(ValueError, match="splits must be a non-empty subset"):
        CIFAR10Whole(splits=('val', ), data_root=str(tmp_path))


def test_colour_jitter_with_negative_hue_under_numpy2():
    """mmcv's adjust_hue overflows for negative factors with numpy >= 2;
    mmconr patches it to the wrap-around shift numpy < 2 gave."""
    import mmcv
    from PIL import Image
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)  # BGR
    for backend in ('pillow', 'cv2'):
        out = mmcv.adjust_hue(img, -0.1, backend=backend)
        assert out.shape == img.shape and out.dtype == np.uint8
    out = mmcv.adjust_hue(img, -0.1, backend='pillow')
    hsv = np.array(Image.fromarray(img[..., ::-1]).convert('HSV'))
    hsv[..., 0] = (hsv[..., 0].astype(int) - 25) % 256  # int(-25.5) = -25
    expected = np.array(Image.fromarray(hsv, 'HSV').convert('RGB'))[..., ::-1]
    np.testing.assert_array_equal(out, expected)
    from mmconr.registry import TRANSFORMS
    jitter = TRANSFORMS.build(
        dict(type='ColorJitter', brightness=0.4, contrast=0.4,
             saturation=0.4, hue=0.1))
    for seed in range(20):
        np.random.seed(seed)
        assert jitter(dict(img=img.copy()))['img'].shape == img.shape
