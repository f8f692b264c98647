"""Print a config as it resolves (inheritance and --cfg-options applied).

    python tools/misc/print_config.py configs/conr/byol_conr_cifar10.py \
        [--cfg-options start_fraction=0.7 ...]
"""
import argparse
import sys

from mmengine.config import DictAction

from mmconr.utils.cli import run_cli
from mmconr.utils.config import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli(
        'print_config',
        lambda: print(load_config(args.config, args.cfg_options).pretty_text),
        args.debug)


if __name__ == '__main__':
    sys.exit(main())
