"""What the network sees: for N images of a config's training set, the
original, the two augmented views of the BYOL stage and a view of the
group-aware stage's pipeline, side by side.

    python tools/visualization/browse_dataset.py CONFIG [--num 8]
        [--out browse.png] [--seed 0] [--cfg-options ...]

The stage-2 column uses the pipeline the config's ConAffNeckHook switches
to (``stage2_pipeline``); configs without one show the first-stage
pipeline again. Images are shown before normalisation.
"""
import argparse
import random
import sys

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.dataset import Compose

from mmconr.registry import DATASETS
from mmconr.utils import register_all_modules
from mmconr.utils.cli import run_cli
from mmconr.utils.config import find_hook, hook_arg, load_config
from mmconr.visualization import dataset_image, views_figure

COLUMNS = ['original', 'view 1', 'view 2', 'stage-2 view']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--num', type=int, default=8,
                        help='number of images (rows), default 8')
    parser.add_argument('--out', default='browse.png', help='PNG to write')
    parser.add_argument('--size', type=int, default=96,
                        help='side of each thumbnail in pixels')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the sample and the augmentations')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def to_display(tensor: torch.Tensor, bgr: bool) -> np.ndarray:
    """A packed (C, H, W) uint8 image as (H, W, 3) RGB."""
    img = tensor.numpy().transpose(1, 2, 0)
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    img = img[..., ::-1] if bgr else img
    return np.ascontiguousarray(img.clip(0, 255).astype(np.uint8))


def views(pipeline: Compose, info: dict, bgr: bool) -> list:
    packed = pipeline(dict(info))['inputs']
    packed = packed if isinstance(packed, (list, tuple)) else [packed]
    return [to_display(t, bgr) for t in packed]


def browse(args) -> dict:
    register_all_modules(init_default_scope=True)
    cfg = load_config(args.config, args.cfg_options)
    if args.num < 1:
        raise ValueError(f'--num must be >= 1, got {args.num}')
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    first = Compose(dataset_cfg.pop('pipeline'))
    hook = find_hook(cfg, 'ConAffNeckHook')
    stage2 = hook_arg(cfg, hook, 'stage2_pipeline') if hook else None
    second = Compose(stage2) if stage2 else first
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=[]))
    pre = cfg.model.get('data_preprocessor') or {}
    bgr = bool(pre.get('to_rgb', pre.get('bgr_to_rgb', False)))
    rng = np.random.RandomState(args.seed)
    indices = sorted(rng.permutation(len(dataset))[:args.num].tolist())
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rows = []
    for idx in indices:
        info = dataset.get_data_info(idx)
        one = views(first, info, bgr)
        two = views(second, info, bgr)
        if len(one) < 2:
            raise ValueError('the training pipeline gives one view per '
                             'image; expected a MultiView of two')
        rows.append([dataset_image(dataset, idx), one[0], one[1], two[0]])
    out = views_figure(rows, COLUMNS, args.out, size=args.size,
                       title=f'{len(rows)} images of {args.config}')
    print(f'written to {out}: rows = dataset indices {indices}')
    return dict(out=out, indices=indices, rows=rows)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('browse_dataset', lambda: browse(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
