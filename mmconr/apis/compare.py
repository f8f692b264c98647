"""Compare two configs over seeds: train both for every seed (optionally
continuing from one shared checkpoint), score each, and the paired gain of
B over A with a 95 % interval (:func:`compare_configs`,
``tools/analysis_tools/compare_runs.py``)."""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.runner import Runner
from scipy import stats

from mmconr.utils.checkpoint import load_checkpoint_file
from mmconr.utils.config import ConfigLike, load_config
from mmconr.utils.io import atomic_open

METRICS = ('NMI', 'ACC', 'ARI')


class PairedGain(NamedTuple):
    mean_a: float
    std_a: float
    mean_b: float
    std_b: float
    gain: float  # mean of B - A over the seeds
    low: float  # 95 % interval of the mean gain (paired t)
    high: float


def paired_gain(a: Sequence[float], b: Sequence[float],
                confidence: float = 0.95) -> PairedGain:
    """Means, sample standard deviations and the paired-t interval of the
    mean difference ``b - a`` (seed s of A against seed s of B)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError('paired_gain needs the same seeds, at least two, '
                         f'for A and B (got {a.size} and {b.size})')
    diff = b - a
    half = stats.t.ppf(0.5 + confidence / 2, diff.size - 1) * diff.std(
        ddof=1) / np.sqrt(diff.size)
    gain = float(diff.mean())
    return PairedGain(float(a.mean()), float(a.std(ddof=1)), float(b.mean()),
                      float(b.std(ddof=1)), gain, gain - half, gain + half)


def seeded_start(checkpoint: str, seed: int, out_file: str) -> str:
    """A copy of ``checkpoint`` whose recorded seed is ``seed``: MMEngine's
    resume adopts the checkpoint's seed, which would give every
    continuation the same random stream."""
    state = load_checkpoint_file(checkpoint, map_location='cpu')
    state.setdefault('meta', {})['seed'] = int(seed)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with atomic_open(out_file, 'wb') as f:
        torch.save(state, f)
    return out_file


def train_and_score(config: ConfigLike, seed: int, work_dir: str,
                    load_from: Optional[str] = None,
                    epochs: Optional[int] = None,
                    cfg_options: Optional[dict] = None) -> Dict[str, float]:
    """Train ``config`` with ``seed`` (continuing from ``load_from``), then
    its test loop: NMI / ACC / ARI (percent), also written to
    ``work_dir/result.json``."""
    cfg = load_config(config, cfg_options)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=int(seed))
    cfg.work_dir = work_dir
    if epochs is not None:
        cfg.train_cfg['max_epochs'] = epochs
    if load_from is not None:
        cfg.load_from = seeded_start(load_from, seed,
                                     osp.join(work_dir, 'start.pth'))
        cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    scores = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    missing = [m for m in METRICS if m not in scores]
    if missing:
        raise ValueError(f'the test loop of {config} gave no {missing}: '
                         'comparing needs a labelled test set')
    result = dict(seed=int(seed), **{m: scores[m] for m in METRICS})
    with atomic_open(osp.join(work_dir, 'result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    return result


def compare_configs(config_a: ConfigLike, config_b: ConfigLike,
                    seeds: Sequence[int], out_dir: str,
                    load_from: Optional[str] = None,
                    epochs: Optional[int] = None,
                    cfg_options: Optional[dict] = None) -> dict:
    """Every seed of A and of B (``out_dir/A/seed_S``, ``out_dir/B/...``),
    then ``runs.csv`` (one row per run) and ``summary.json`` (per metric:
    :class:`PairedGain` of B over A)."""
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise ValueError(f'seeds must be at least two distinct values, got '
                         f'{list(seeds)}')
    rows: List[dict] = []
    for seed in seeds:
        for name, config in (('A', config_a), ('B', config_b)):
            work_dir = osp.join(out_dir, name, f'seed_{seed}')
            result = train_and_score(config, seed, work_dir, load_from,
                                     epochs, cfg_options)
            rows.append(dict(config=name, path=str(config), **result))
    with atomic_open(osp.join(out_dir, 'runs.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, ['config', 'path', 'seed', *METRICS])
        writer.writeheader()
        writer.writerows(rows)
    summary = {}
    for metric in METRICS:
        a = [r[metric] for r in rows if r['config'] == 'A']
        b = [r[metric] for r in rows if r['config'] == 'B']
        summary[metric] = paired_gain(a, b)._asdict()
    with atomic_open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(dict(A=str(config_a), B=str(config_b), seeds=list(seeds),
                       load_from=load_from, metrics=summary), f, indent=2)
    return dict(rows=rows, summary=summary)


def gain_line(summary: dict) -> str:
    """``nmi_gain=… acc_gain=… ari_gain=… (95% CI nmi [lo, hi] …)``."""
    gains = ' '.join(f'{m.lower()}_gain={summary[m]["gain"]:+.2f}'
                     for m in METRICS)
    cis = ' '.join(f'{m.lower()} [{summary[m]["low"]:+.2f}, '
                   f'{summary[m]["high"]:+.2f}]' for m in METRICS)
    return f'{gains} (95% CI {cis})'
