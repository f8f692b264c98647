"""Strip a checkpoint to its weights and name it by its hash.

    python tools/model_converters/publish_model.py \
        work_dirs/byol_conr_cifar10/epoch_1000.pth byol_conr_cifar10.pth
    # -> byol_conr_cifar10-1a2b3c4d.pth

Keeps the ``state_dict`` (on the CPU) and a little ``meta`` (epoch,
iteration, seed, config); drops the optimizer, schedulers, message hub
and hook states. The input is read with mmconr's safe loader. The output's
name gets the first 8 hex digits of its SHA-256, the OpenMMLab convention.
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mmconr.converters import published, sha256_prefix
from mmconr.utils import load_checkpoint_file
from mmconr.utils.cli import run_cli
from mmconr.utils.io import atomic_open


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='checkpoint written by tools/train.py')
    parser.add_argument('dst', help='output file (.pth); the hash is '
                        'appended to its name')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def publish(src: str, dst: str) -> str:
    if not dst.endswith('.pth'):
        raise ValueError(f'the output must end in .pth, got {dst}')
    with atomic_open(dst, 'wb') as f:
        torch.save(published(load_checkpoint_file(src, 'cpu')), f)
    final = f'{dst[:-len(".pth")]}-{sha256_prefix(dst)}.pth'
    os.replace(dst, final)
    return final


def publish_and_report(args) -> None:
    final = publish(args.src, args.dst)
    print(f'{osp.basename(final)} ({osp.getsize(final) / 2**20:.1f} MiB)')


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('publish_model', lambda: publish_and_report(args),
                   args.debug)


if __name__ == '__main__':
    sys.exit(main())
