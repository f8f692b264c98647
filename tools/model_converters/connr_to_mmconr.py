"""Convert the epoch-800 files of the official ConNR / ProPos BYOL run
(saved by variable name: ``byol-800`` the BYOL wrapper's state_dict,
``optimizer-800`` the SGD state) into an mmconr checkpoint:

    python tools/model_converters/connr_to_mmconr.py byol-800 \
        checkpoints/connr_byol_cifar10_epoch800.pth --optimizer optimizer-800
    # continue with the ConNR stage (epochs 800..999), on any number of GPUs:
    bash tools/dist_train.sh configs/conr/byol_conr_cifar10.py 4 \
        --resume checkpoints/connr_byol_cifar10_epoch800.pth
    # or start from the weights only:
    python tools/train.py CONFIG --cfg-options \
        load_from=checkpoints/connr_byol_cifar10_epoch800.pth

Online and target (EMA) networks, projector, predictor and every BN
statistic are kept. The result is checked key by key and shape by shape
against the model of --config. With --epoch (default 800) it also holds the
training state of that epoch of --config (epoch, iteration, lr schedule,
EMA counter) so that --resume continues there; with --optimizer, SGD
continues with the official momentum buffers (without it, momentum
restarts from zero). --iters-per-epoch must match the run that continues:
117 = 60,000 CIFAR-10 images // the global batch 512, on any number of
GPUs (docs/reproduction.md).
"""
import argparse
import os
import os.path as osp

import torch

from mmconr.converters import official_to_mmconr
from mmconr.utils import load_checkpoint_file
from mmconr.utils.paths import shipped_path

DEFAULT_CONFIG = 'configs/conr/byol_conr_cifar10.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='official ConNR BYOL checkpoint -> mmconr checkpoint')
    parser.add_argument('src', help='official checkpoint (state_dict file)')
    parser.add_argument('dst', help='mmconr checkpoint to write')
    parser.add_argument(
        '--config',
        help='the mmconr config the checkpoint is for (default: '
        f'{DEFAULT_CONFIG}, shipped with mmconr)')
    parser.add_argument('--epoch', type=int, default=800,
                        help='epoch the official checkpoint ends (default '
                        '800, the warm-up)')
    parser.add_argument('--weights-only', action='store_true',
                        help='no training state: for load_from only')
    parser.add_argument('--optimizer',
                        help='the official optimizer-<epoch> file (SGD '
                        'momentum buffers)')
    parser.add_argument('--iters-per-epoch', type=int, default=117)
    args = parser.parse_args(argv)
    if args.config is None:
        args.config = shipped_path(DEFAULT_CONFIG)
    return args


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.src):
        raise FileNotFoundError(f'official checkpoint not found: {args.src}')
    # weights-only, with mmconr's allow-list; a crafted file is refused
    official = load_checkpoint_file(args.src, map_location='cpu')
    optimizer = None
    if args.optimizer is not None:
        if not osp.isfile(args.optimizer):
            raise FileNotFoundError(
                f'official optimizer state not found: {args.optimizer}')
        optimizer = load_checkpoint_file(args.optimizer, map_location='cpu')
    try:
        checkpoint = official_to_mmconr(
            official, args.config,
            epoch=None if args.weights_only else args.epoch,
            iters_per_epoch=args.iters_per_epoch, optimizer=optimizer)
    except ValueError as exc:
        names = args.src if optimizer is None else \
            f'{args.src} / {args.optimizer}'
        raise ValueError(f'{names}: {exc}') from exc
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    torch.save(checkpoint, args.dst)
    meta = checkpoint['meta']
    print(f'{len(checkpoint["state_dict"])} tensors written to {args.dst}' +
          ('' if args.weights_only else
           f'; resumes {osp.relpath(args.config)} at epoch {meta["epoch"]} '
           f'(iteration {meta["iter"]})'))
    return checkpoint


if __name__ == '__main__':
    main()
