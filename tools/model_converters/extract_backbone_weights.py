"""The backbone of a trained model, for use downstream.

    python tools/model_converters/extract_backbone_weights.py \
        work_dirs/byol_conr_cifar10/epoch_1000.pth backbone.pth [--target]

Writes ``{'state_dict': ...}`` with the backbone's keys and no prefix, the
form mmpretrain's backbones load with
``init_cfg=dict(type='Pretrained', checkpoint='backbone.pth')`` (e.g. a
linear probe on the frozen features). ``--network online`` (default) takes
the online encoder; ``target`` the EMA target whose features mmconr
clusters (BYOL / ConNR); ``key`` MoCo's momentum key encoder.
"""
import argparse
import sys

import torch

from mmconr.converters import BACKBONE_PREFIXES, backbone_weights
from mmconr.utils import load_checkpoint_file
from mmconr.utils.cli import run_cli
from mmconr.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint written by tools/train.py')
    parser.add_argument('dst', help='output file (.pth)')
    parser.add_argument('--network', default='online',
                        choices=sorted(BACKBONE_PREFIXES),
                        help='which encoder (default: online)')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def extract(args) -> None:
    out = backbone_weights(load_checkpoint_file(args.src, 'cpu'),
                           args.network)
    with atomic_open(args.dst, 'wb') as f:
        torch.save(out, f)
    print(f'{len(out["state_dict"])} tensors of the {args.network} backbone '
          f'written to {args.dst}')


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('extract_backbone_weights', lambda: extract(args),
                   args.debug)


if __name__ == '__main__':
    sys.exit(main())
