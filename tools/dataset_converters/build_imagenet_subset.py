"""Build data/imagenet10 or data/imagenet_dogs from an ImageNet train folder.

    python tools/dataset_converters/build_imagenet_subset.py \
        /path/to/ILSVRC2012/train data/imagenet10 --subset imagenet10

Creates ``OUT/<wnid>`` as symbolic links to the class folders of the
ImageNet ``train`` tree (``--copy`` copies the files instead) after checking
that every class exists and holds images; counts other than 1,300 per class
are reported (``--strict`` makes them an error). Nothing is created when a
check fails.
"""
import argparse
import os
import os.path as osp
import shutil
import sys

from mmconr.datasets.imagenet_subsets import (IMAGENET10_WNIDS,
                                              IMAGENET_DOGS_WNIDS, list_images)

SUBSETS = dict(imagenet10=IMAGENET10_WNIDS, imagenet_dogs=IMAGENET_DOGS_WNIDS)


def check_source(src: str, wnids, per_class: int, strict: bool) -> dict:
    if not osp.isdir(src):
        raise SystemExit(f'error: ImageNet train folder {src!r} not found')
    missing = [w for w in wnids if not osp.isdir(osp.join(src, w))]
    if missing:
        raise SystemExit(f'error: {len(missing)} class folders missing in '
                         f'{src}: {", ".join(missing)}')
    counts = {w: len(list_images(osp.join(src, w))) for w in wnids}
    empty = [w for w, n in counts.items() if n == 0]
    if empty:
        raise SystemExit(f'error: class folders without images: '
                         f'{", ".join(osp.join(src, w) for w in empty)}')
    odd = {w: n for w, n in counts.items() if n != per_class}
    if odd:
        msg = (f'{len(odd)} classes do not have {per_class} images: ' +
               ', '.join(f'{w}={n}' for w, n in odd.items()))
        if strict:
            raise SystemExit('error: ' + msg)
        print('warning: ' + msg)
    return counts


def build(src: str, out: str, wnids, copy: bool) -> None:
    clashes = [w for w in wnids if osp.lexists(osp.join(out, w))]
    if clashes:
        raise SystemExit(f'error: {out} already holds {", ".join(clashes)}; '
                         'remove them or choose another output folder')
    os.makedirs(out, exist_ok=True)
    for wnid in wnids:
        source = osp.abspath(osp.join(src, wnid))
        target = osp.join(out, wnid)
        if copy:
            shutil.copytree(source, target + '.partial')
            os.replace(target + '.partial', target)
        else:
            os.symlink(source, target, target_is_directory=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('imagenet_train', help='ImageNet train/ folder')
    parser.add_argument('out', help='output folder, e.g. data/imagenet10')
    parser.add_argument('--subset', choices=sorted(SUBSETS), required=True)
    parser.add_argument('--copy', action='store_true',
                        help='copy the images instead of linking folders')
    parser.add_argument('--images-per-class', type=int, default=1300)
    parser.add_argument('--strict', action='store_true',
                        help='fail when a class has another image count')
    args = parser.parse_args(argv)
    wnids = SUBSETS[args.subset]
    counts = check_source(args.imagenet_train, wnids, args.images_per_class,
                          args.strict)
    build(args.imagenet_train, args.out, wnids, args.copy)
    print(f'{args.subset}: {len(wnids)} classes, {sum(counts.values())} '
          f'images -> {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
