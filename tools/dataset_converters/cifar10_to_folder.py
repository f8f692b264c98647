"""Write a CIFAR-10 split as an image folder, one sub-folder per class.

    python tools/dataset_converters/cifar10_to_folder.py data/cifar10 \
        data/cifar10-test-jpg [--split test] [--format jpg|png]

Reads the standard CIFAR-10 python batches under DATA_ROOT
(``cifar-10-batches-py/``, as configs/_base_/datasets/cifar10_whole.py
does) and writes every image of the split as ``OUT/<class>/<NNNN>.<ext>``
(``NNNN``: its index within the class, in file order) — the layout of
``configs/demo/byol_conr_cifar10_test.py``. JPEG (quality 95, no chroma
subsampling; the default) or lossless PNG. The folder is written next to
OUT and renamed into place at the end, so a failure leaves nothing
half-written; an OUT that exists and is not an empty folder is refused.
"""
import argparse
import os
import os.path as osp
import shutil
import sys
import tempfile

from PIL import Image

from mmconr.datasets import CIFAR10Whole


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='folder holding '
                        'cifar-10-batches-py/')
    parser.add_argument('out', help='image folder to create')
    parser.add_argument('--split', choices=('train', 'test'), default='test')
    parser.add_argument('--format', choices=('jpg', 'png'), default='jpg')
    return parser.parse_args(argv)


def convert(data_root: str, out: str, split: str = 'test',
            fmt: str = 'jpg') -> dict:
    """Write the split; returns {class name: number of images}."""
    if osp.exists(out) and not osp.isdir(out):
        raise FileExistsError(f'{out} exists and is not a folder')
    if osp.isdir(out) and os.listdir(out):
        raise FileExistsError(f'{out} exists and is not empty')
    dataset = CIFAR10Whole(splits=(split, ), data_root=data_root,
                           download=False, pipeline=[])
    classes = dataset.metainfo['classes']
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.cifar10_', dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would stay private
    counts = {name: 0 for name in classes}
    try:
        for name in classes:
            os.makedirs(osp.join(staging, name))
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            name = classes[int(info['gt_label'])]
            path = osp.join(staging, name, f'{counts[name]:04d}.{fmt}')
            image = Image.fromarray(info['img'])  # HWC, RGB
            if fmt == 'jpg':
                image.save(path, quality=95, subsampling=0)  # 4:4:4
            else:
                image.save(path)
            counts[name] += 1
        if osp.isdir(out):
            os.rmdir(out)  # empty, checked above
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        counts = convert(args.data_root, args.out, args.split, args.format)
    except (OSError, RuntimeError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    total = sum(counts.values())
    print(f'{total} images of the {args.split} split in {len(counts)} class '
          f'folders under {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
