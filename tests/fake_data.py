"""Tiny datasets in the real on-disk formats, written by the tests."""
import os
import os.path as osp
import pickle

import numpy as np
from PIL import Image

from mmconr.datasets.cifar import CIFAR100_FINE_TO_COARSE
from mmconr.datasets.imagenet_subsets import (IMAGENET10_WNIDS,
                                              IMAGENET_DOGS_WNIDS)


def write_cifar10(root, per_batch=3):
    folder = osp.join(root, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for b, name in enumerate(names):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(b + i) % 10 for i in range(per_batch)]
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump({'data': data, 'labels': labels}, f)
    with open(osp.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': [f'c{i}' for i in range(10)]}, f)
    return root


def write_cifar100(root, train=16, test=8, coarse_override=None):
    folder = osp.join(root, 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    for name, n in (('train', train), ('test', test)):
        fine = [int(v) for v in rng.integers(0, 100, n)]
        coarse = [CIFAR100_FINE_TO_COARSE[v] for v in fine]
        if coarse_override is not None and name == 'train':
            coarse[0] = coarse_override
        entry = {
            'data': rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            'fine_labels': fine,
            'coarse_labels': coarse
        }
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(entry, f)
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump({'fine_label_names': [f'f{i}' for i in range(100)]}, f)
    return root


def stl10_images(n, seed):
    """(n, 96, 96, 3) HWC images and their column-major file bytes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
    return images, images.transpose(0, 3, 2, 1).tobytes()


def write_stl10(root, counts=dict(train=6, test=6, unlabeled=8)):
    folder = osp.join(root, 'stl10_binary')
    os.makedirs(folder, exist_ok=True)
    images = {}
    for seed, (split, n) in enumerate(counts.items()):
        imgs, raw = stl10_images(n, seed)
        images[split] = imgs
        with open(osp.join(folder, f'{split}_X.bin'), 'wb') as f:
            f.write(raw)
        if split != 'unlabeled':
            labels = np.array([(i % 10) + 1 for i in range(n)], np.uint8)
            labels.tofile(osp.join(folder, f'{split}_y.bin'))
    return root, images


def write_image(path, size, seed):
    rng = np.random.default_rng(seed)
    w, h = size
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
        path, quality=90)


def write_imagenet_tree(root, wnids, per_class=2,
                        sizes=((120, 90), (70, 110))):
    for c, wnid in enumerate(wnids):
        os.makedirs(osp.join(root, wnid), exist_ok=True)
        for i in range(per_class):
            write_image(
                osp.join(root, wnid, f'{wnid}_{i}.JPEG'),
                sizes[(c + i) % len(sizes)], seed=c * 100 + i)
    return root


def write_tiny_imagenet(root, num_classes=200, per_class=1, val=4):
    wnids = [f'n{i:08d}' for i in range(num_classes)]
    for c, wnid in enumerate(wnids):
        folder = osp.join(root, 'train', wnid, 'images')
        os.makedirs(folder, exist_ok=True)
        for i in range(per_class):
            write_image(
                osp.join(folder, f'{wnid}_{i}.JPEG'), (64, 64), c * 10 + i)
    os.makedirs(osp.join(root, 'val', 'images'), exist_ok=True)
    with open(osp.join(root, 'val', 'val_annotations.txt'), 'w') as f:
        for i in range(val):
            name = f'val_{i}.JPEG'
            write_image(osp.join(root, 'val', 'images', name), (64, 64), i)
            f.write(f'{name}\t{wnids[i * 3]}\t0\t0\t63\t63\n')
    return root, wnids


def write_image_folder(root, per_format=4, bad_files=True):
    """A folder tree as users have them: nested folders (two "classes"),
    .jpg/.JPEG/.png/.webp with mixed sizes and colour modes, and, with
    ``bad_files``, a corrupt image, a truncated JPEG and a non-image file.

    Returns (root, sorted readable image paths, {bad path: kind}).
    """
    rng = np.random.default_rng(7)
    good, bad = [], {}
    specs = [('cats', '.jpg', 'RGB'), ('cats/indoor', '.JPEG', 'RGB'),
             ('dogs', '.png', 'RGBA'), ('dogs', '.webp', 'RGB'),
             ('dogs/grey', '.png', 'L')]
    for s, (sub, ext, mode) in enumerate(specs):
        folder = osp.join(root, sub)
        os.makedirs(folder, exist_ok=True)
        for i in range(per_format):
            w, h = int(rng.integers(20, 60)), int(rng.integers(20, 60))
            channels = {'RGB': 3, 'RGBA': 4, 'L': 1}[mode]
            pixels = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
            img = Image.fromarray(pixels[..., 0] if mode == 'L' else pixels,
                                  mode)
            path = osp.join(folder, f'img{s}_{i}{ext}')
            img.save(path, format={'.jpg': 'JPEG', '.JPEG': 'JPEG',
                                   '.png': 'PNG', '.webp': 'WEBP'}[ext])
            good.append(path)
    if bad_files:
        corrupt = osp.join(root, 'cats', 'corrupt.jpg')
        with open(corrupt, 'wb') as f:
            f.write(b'this is not a jpeg at all')
        truncated = osp.join(root, 'dogs', 'truncated.jpg')
        with open(good[0], 'rb') as f:
            data = f.read()
        with open(truncated, 'wb') as f:
            f.write(data[:len(data) // 2])
        notes = osp.join(root, 'notes.txt')
        with open(notes, 'w') as f:
            f.write('not an image\n')
        bad = {corrupt: 'unreadable', truncated: 'unreadable',
               notes: 'not an image'}
    return root, sorted(good), bad


FAKE_WRITERS = {
    'CIFAR10Whole': lambda root: write_cifar10(root),
    'CIFAR20': lambda root: write_cifar100(root),
    'STL10': lambda root: write_stl10(root)[0],
    'ImageNet10': lambda root: write_imagenet_tree(root, IMAGENET10_WNIDS),
    'ImageNetDogs': lambda root: write_imagenet_tree(
        root, IMAGENET_DOGS_WNIDS, per_class=3),
    'TinyImageNet': lambda root: write_tiny_imagenet(root)[0],
    'UnlabeledImageFolder': lambda root: write_image_folder(root)[0],
}


# a narrow ResNet-18 for the folder config on 32x32 inputs: CPU runs of the
# folder tools take seconds
TINY_FOLDER_OPTIONS = {
    'model.backbone.base_channels': 8,
    'model.backbone.stem_channels': 8,
    'model.neck.in_channels': 64,
    'model.neck.hid_channels': 64,
    'model.head.predictor.hid_channels': 64,
}
