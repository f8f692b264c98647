"""Does B beat A? Every config trained and scored for every seed, the paired
gain over the first config with a 95 % interval:

    python tools/analysis_tools/compare_runs.py CFG_A CFG_B [CFG_C ...]
        --seeds 0 1 2 3 4 --out DIR [--load-from CKPT] [--epochs N]
        [--cfg-options ...]

Every (config, seed) trains in DIR/NAME/seed_S (NAME: the config's file
stem) with ``randomness.seed=S`` and is scored by its test loop (NMI / ACC /
ARI). With --load-from, every run resumes from that one checkpoint (the
paper's protocol: the same warm-up, then A vs B), each from a copy that
records its own seed, since MMEngine's resume adopts the checkpoint's seed.
--epochs sets ``train_cfg.max_epochs`` of all. A run whose
DIR/NAME/seed_S/result.json was made from the same config, overrides, seed
and checkpoint is reused (--no-reuse trains it again), so an interrupted
comparison, or one given another config, trains only what is missing.

Writes DIR/runs.csv (a row per run), DIR/summary.json, DIR/compare.png
(per-seed points, mean ± std) and prints a table; then, for every config
after the first, ``NAME - A:`` and ``nmi_gain=… acc_gain=… ari_gain=… (95%
CI nmi [lo, hi] acc … ari …)``: the mean over seeds of NAME − A and its
paired-t interval (the last line is the last config's).
"""
import argparse
import os.path as osp
import sys

from mmengine.config import DictAction

from mmconr.apis.compare import METRICS, compare_configs, gain_line
from mmconr.utils import register_all_modules
from mmconr.utils.cli import run_cli
from mmconr.visualization import comparison_figure


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG',
                        help='the baseline first, then the configs to '
                        'compare with it')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--load-from', help='one checkpoint every run '
                        'continues from')
    parser.add_argument('--epochs', type=int,
                        help='train_cfg.max_epochs of every config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for every config')
    parser.add_argument('--no-reuse', dest='reuse', action='store_false',
                        help='train every run again even where its '
                        'result.json matches')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    args = parser.parse_args(argv)
    if len(args.configs) < 2:
        parser.error('give a baseline config and at least one more')
    return args


def table(rows, names, seeds) -> str:
    """A Markdown table: a row per seed, then mean ± std; a column per
    metric and config."""
    head = [f'{n} {m}' for m in METRICS for n in names]
    lines = ['| seed | ' + ' | '.join(head) + ' |',
             '|' + ' --- |' * (1 + len(head))]
    by_run = {(r['config'], r['seed']): r for r in rows}
    for seed in seeds:
        cells = [f'{by_run[n, seed][m]:.2f}' for m in METRICS for n in names]
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    cells = []
    for m in METRICS:
        for n in names:
            v = [by_run[n, s][m] for s in seeds]
            mean = sum(v) / len(v)
            std = (sum((x - mean)**2 for x in v) / (len(v) - 1))**0.5
            cells.append(f'{mean:.2f} ± {std:.2f}')
    lines.append('| mean ± std | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def compare(args) -> dict:
    register_all_modules(init_default_scope=False)
    result = compare_configs(args.configs, args.seeds, args.out,
                             args.load_from, args.epochs, args.cfg_options,
                             args.reuse)
    rows, names = result['rows'], result['names']
    for name, path in zip(names, args.configs):
        print(f'{name} = {path}')
    print(table(rows, names, args.seeds))
    comparison_figure(
        {m: {n: [r[m] for r in rows if r['config'] == n] for n in names}
         for m in METRICS}, osp.join(args.out, 'compare.png'),
        title=f'{len(args.seeds)} seeds')
    for name in names[1:]:
        print(f'{name} - {names[0]}:')
        print(gain_line(result['summary']['gains'][name]))
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('compare_runs', lambda: compare(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
