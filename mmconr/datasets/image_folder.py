"""Any folder of images as a dataset: recursive, checked up front."""
import logging
import os
import os.path as osp
import random
import re
from typing import Dict, List, Optional, Tuple

import mmcv
from mmengine.logging import print_log
from mmengine.utils import ProgressBar
from mmpretrain.datasets import BaseDataset

from mmconr.registry import DATASETS
from .imagenet_subsets import IMG_EXTENSIONS

# (path, mtime_ns, size) -> None if readable, else the reason it is not;
# several datasets of one config (train, features) check a file once.
_CHECKED: Dict[Tuple[str, int, int], Optional[str]] = {}
_WARNED = set()  # (folder, skipped files) already reported


def scan_folder(folder: str) -> Tuple[List[str], List[str]]:
    """All files under ``folder`` (recursively, following links), sorted by
    path: (image files by extension, case-insensitive; the other files)."""
    images, others = [], []
    for root, _, files in os.walk(folder, followlinks=True):
        for name in files:
            path = osp.join(root, name)
            (images if name.lower().endswith(IMG_EXTENSIONS) else
             others).append(path)
    return sorted(images), sorted(others)


def decode_image(path: str):
    """Decode ``path`` exactly as the pipelines do
    (``CheckedLoadImageFromFile`` with the pillow backend): (H, W, 3) uint8
    BGR."""
    with open(path, 'rb') as f:
        content = f.read()
    img = mmcv.imfrombytes(content, flag='color', backend='pillow')
    if img is None or img.ndim != 3 or 0 in img.shape[:2]:
        raise ValueError('decoded to an empty image')
    return img


def _checked_key(path: str) -> Optional[Tuple[str, int, int]]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (path, stat.st_mtime_ns, stat.st_size)


def unreadable_reason(path: str) -> Optional[str]:
    """``None`` if ``path`` decodes to a non-empty colour image, else why
    not (memoised on path, modification time and size)."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        return f'{type(exc).__name__}: {exc}'
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _CHECKED:
        try:
            decode_image(path)
            _CHECKED[key] = None
        except Exception as exc:  # any decoder error means "skip this file"
            message = re.sub(r'\s*<_io\.BytesIO object at \w+>', '',
                             str(exc))
            _CHECKED[key] = f'{type(exc).__name__}: {message}'.strip()
    return _CHECKED[key]


def describe_skipped(skipped: List[Tuple[str, str]], limit: int = 20) -> str:
    lines = [f'  {path}: {reason}' for path, reason in skipped[:limit]]
    if len(skipped) > limit:
        lines.append(f'  ... and {len(skipped) - limit} more')
    return '\n'.join(lines)


@DATASETS.register_module()
class UnlabeledImageFolder(BaseDataset):
    """Every image under a folder, nested folders included.

    Files ending in .jpg/.jpeg/.png/.webp/.bmp (any case) are decoded once
    when the dataset is built (with the decoder the pipeline uses:
    ``CheckedLoadImageFromFile(imdecode_backend='pillow')``); files that do not
    decode and files that are not images are skipped with one warning naming
    them, and kept in :attr:`skipped` as ``(path, reason)``. Images may have
    any size and colour mode (grey, palette and alpha images become RGB).

    Args:
        data_root: the folder.
        labels_from: ``'none'`` (every label is -1: nothing is scored) or
            ``'subfolder'`` (the first folder level below ``data_root`` is
            the class, as torchvision's ImageFolder; for diagnostics such as
            NMI/ACC on an already labelled folder; files directly in
            ``data_root`` get -1).
        max_images: optional random subset of this many image files
            (seeded, in path order), chosen before the check.
        seed: seed of that subset.
    """

    def __init__(self,
                 data_root: str = '',
                 labels_from: str = 'none',
                 max_images: Optional[int] = None,
                 seed: int = 0,
                 **kwargs):
        if labels_from not in ('none', 'subfolder'):
            raise ValueError("labels_from must be 'none' or 'subfolder', got "
                             f'{labels_from!r}')
        if max_images is not None and (not isinstance(max_images, int)
                                       or max_images < 1):
            raise ValueError(
                f'max_images must be a positive integer, got {max_images!r}')
        self.labels_from = labels_from
        self.max_images = max_images
        self.seed = seed
        self.skipped: List[Tuple[str, str]] = []
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        root = self.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(
                f'{type(self).__name__}: image folder {root!r} does not '
                'exist or is not a folder')
        candidates, others = scan_folder(root)
        if self.max_images is not None and len(candidates) > self.max_images:
            chosen = random.Random(self.seed).sample(
                range(len(candidates)), self.max_images)
            candidates = [candidates[i] for i in sorted(chosen)]
        skipped = [(p, 'not an image file (extension)') for p in others]
        readable = []
        # a progress bar unless every file was checked before
        progress = ProgressBar(len(candidates)) if any(
            _checked_key(p) not in _CHECKED for p in candidates) else None
        for path in candidates:
            reason = unreadable_reason(path)
            if reason is None:
                readable.append(path)
            else:
                skipped.append((path, f'unreadable ({reason})'))
            if progress is not None:
                progress.update()
        if progress is not None:
            print()
        self.skipped = sorted(skipped)
        warning_key = (root, tuple(self.skipped))
        if self.skipped and warning_key not in _WARNED:
            _WARNED.add(warning_key)
            print_log(
                f'{type(self).__name__}: skipped {len(self.skipped)} of '
                f'{len(candidates) + len(others)} files under {root}:\n' +
                describe_skipped(self.skipped),
                logger='current',
                level=logging.WARNING)
        if not readable:
            raise ValueError(
                f'{type(self).__name__}: no readable image under {root} '
                f'(looked for {", ".join(IMG_EXTENSIONS)}, any case)')
        labels, classes = self._labels(readable)
        if classes is not None:
            self._metainfo['classes'] = classes
        return [
            dict(img_path=path, gt_label=label)
            for path, label in zip(readable, labels)
        ]

    def _labels(self, paths):
        if self.labels_from == 'none':
            return [-1] * len(paths), None
        tops = [
            osp.relpath(p, self.data_root).split(os.sep) for p in paths
        ]
        classes = tuple(sorted({t[0] for t in tops if len(t) > 1}))
        index = {c: i for i, c in enumerate(classes)}
        return [index[t[0]] if len(t) > 1 else -1 for t in tops], classes

    def relative_path(self, idx: int) -> str:
        return osp.relpath(self.get_data_info(idx)['img_path'],
                           self.data_root)
