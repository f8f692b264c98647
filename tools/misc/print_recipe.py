"""Print what a config will do when launched on N GPUs.

    python tools/misc/print_recipe.py configs/conr/byol_conr_cifar10.py \
        --gpus 8 [--json] [--num-samples N] [--cfg-options k=v ...]

Per-GPU and global batch, BN group size, iterations per epoch, the lr of
every kind of param group and the EMA momentum at epochs 0, 25, 50, 400,
799, 800, 850, 999 (first iteration of each; after the stage switch where
it applies), the loss weight and averaging of each stage and the k-means
settings. The curves come from the config's own optimizer, schedulers,
stage hook and EMA (mmconr.apis.recipe).
"""
import argparse
import json
import sys

from mmengine.config import Config, DictAction

from mmconr.apis import recipe
from mmconr.utils import register_all_modules
from mmconr.utils.cli import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--gpus', type=int, default=1,
                        help='number of processes of the launch')
    parser.add_argument('--num-samples', type=int, default=None,
                        help='training images (default: the config\'s '
                        'num_train_samples)')
    parser.add_argument('--json', action='store_true',
                        help='one JSON object instead of a table')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def fmt(value) -> str:
    return f'{value:.6g}' if isinstance(value, float) else str(value)


def print_table(r: dict) -> None:
    print(f"{r['config']} on {r['gpus']} GPU(s)")
    print(f"  global batch {r['global_batch']} = {r['gpus']} x "
          f"{r['per_gpu_batch']}; BN groups: {r['bn_group_size']}; "
          f"{r['iters_per_epoch']} iterations per epoch "
          f"({r['num_samples']} images)")
    epochs = [e for e, _ in next(iter(r['lr'].values()))]
    print('  epoch            ' + ''.join(f'{e:>11}' for e in epochs))
    for name, curve in r['lr'].items():
        print(f'  lr {name:<14}' + ''.join(f'{v:>11.4e}' for _, v in curve))
    if r['ema_momentum']:
        print('  ema momentum     ' +
              ''.join(f'{v:>11.6f}' for _, v in r['ema_momentum']))
    for stage, info in r['stages'].items():
        print(f'  {stage} stage: ' +
              ', '.join(f'{k}={fmt(v)}' for k, v in info.items()))
    if 'boundary' in r:
        print('  boundary: ' + ', '.join(f'{k}={fmt(v)}'
                                         for k, v in r['boundary'].items()))
    print(f"  evaluation k-means: {r['evaluation_kmeans']}")


def run(args) -> None:
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    result = recipe(cfg, args.gpus, args.num_samples)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_table(result)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('print_recipe', lambda: run(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
