"""Does B beat A? Both configs trained and scored for every seed, the
paired gain with a 95 % interval:

    python tools/analysis_tools/compare_runs.py CFG_A CFG_B --seeds 0 1 2 3 4
        --out DIR [--load-from CKPT] [--epochs N] [--cfg-options ...]

Every (config, seed) trains in DIR/A/seed_S or DIR/B/seed_S with
``randomness.seed=S`` and is scored by its test loop (NMI / ACC / ARI).
With --load-from, every run resumes from that one checkpoint (the paper's
protocol: the same warm-up, then A vs B), each from a copy that records its
own seed, since MMEngine's resume adopts the checkpoint's seed. --epochs
sets ``train_cfg.max_epochs`` of both.

Writes DIR/runs.csv (a row per run), DIR/summary.json, DIR/compare.png
(per-seed points, mean ± std, B − A) and prints a table; the last line is
``nmi_gain=… acc_gain=… ari_gain=… (95% CI nmi [lo, hi] acc … ari …)``:
the mean over seeds of B − A and its paired-t interval.
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
    parser.add_argument('config_a')
    parser.add_argument('config_b')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--load-from', help='one checkpoint every run '
                        'continues from')
    parser.add_argument('--epochs', type=int,
                        help='train_cfg.max_epochs of both configs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides for both configs')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def compare(args) -> dict:
    register_all_modules(init_default_scope=False)
    result = compare_configs(args.config_a, args.config_b, args.seeds,
                             args.out, args.load_from, args.epochs,
                             args.cfg_options)
    rows, summary = result['rows'], result['summary']
    print(f'A = {args.config_a}\nB = {args.config_b}')
    print('| seed | ' + ' | '.join(f'A {m} | B {m}' for m in METRICS) +
          ' |')
    print('|' + ' --- |' * (1 + 2 * len(METRICS)))
    for seed in args.seeds:
        a = next(r for r in rows if r['config'] == 'A' and r['seed'] == seed)
        b = next(r for r in rows if r['config'] == 'B' and r['seed'] == seed)
        cells = ' | '.join(f'{a[m]:.2f} | {b[m]:.2f}' for m in METRICS)
        print(f'| {seed} | {cells} |')
    print('| mean ± std | ' + ' | '.join(
        f'{s["mean_a"]:.2f} ± {s["std_a"]:.2f} | '
        f'{s["mean_b"]:.2f} ± {s["std_b"]:.2f}'
        for s in (summary[m] for m in METRICS)) + ' |')
    comparison_figure(
        {m: dict(A=[r[m] for r in rows if r['config'] == 'A'],
                 B=[r[m] for r in rows if r['config'] == 'B'])
         for m in METRICS}, osp.join(args.out, 'compare.png'),
        title=f'{len(args.seeds)} seeds')
    print(gain_line(summary))
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_cli('compare_runs', lambda: compare(args), args.debug)


if __name__ == '__main__':
    sys.exit(main())
