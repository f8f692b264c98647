"""Compare configs over seeds: train a baseline and any number of other
configs for every seed (optionally continuing from one shared checkpoint),
score each, and the paired gain of every config over the baseline with a
95 % interval (:func:`compare_configs`,
``tools/analysis_tools/compare_runs.py``)."""
import csv
import functools
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner import Runner
from scipy import stats

from mmconr.clustering.saved import config_json
from mmconr.utils.checkpoint import load_checkpoint_file
from mmconr.utils.config import ConfigLike, load_config
from mmconr.utils.io import atomic_open, file_sha256
from mmconr.version import __version__

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


@functools.lru_cache(maxsize=8)
def _checkpoint_digest(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)


def run_key(cfg, load_from: Optional[str]) -> str:
    """What decides a run: the full config (after overrides, seed and
    epochs; not its work_dir), the bytes of the checkpoint it continues
    from and the mmconr version. Data files and uncommitted code changes
    are not in it (``--no-reuse`` after changing them)."""
    settings = cfg.to_dict()
    settings.pop('work_dir', None)
    digest = hashlib.sha256(config_json(settings).encode())
    digest.update(f'mmconr {__version__}'.encode())
    if load_from is not None:
        stat = os.stat(load_from)
        digest.update(
            _checkpoint_digest(osp.abspath(load_from), stat.st_mtime_ns,
                               stat.st_size).encode())
    return digest.hexdigest()


def train_and_score(config: ConfigLike, seed: int, work_dir: str,
                    load_from: Optional[str] = None,
                    epochs: Optional[int] = None,
                    cfg_options: Optional[dict] = None,
                    reuse: bool = True) -> Dict[str, float]:
    """Train ``config`` with ``seed`` (continuing from ``load_from``), then
    its test loop: NMI / ACC / ARI (percent), also written to
    ``work_dir/result.json`` with the run's :func:`run_key`.

    With ``reuse``, a ``result.json`` already in ``work_dir`` whose key
    equals this run's is returned without training again (an interrupted
    or extended comparison picks up where it was); any other one is
    trained over."""
    cfg = load_config(config, cfg_options)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=int(seed))
    cfg.work_dir = work_dir
    if epochs is not None:
        cfg.train_cfg['max_epochs'] = epochs
    key = run_key(cfg, load_from)
    done = osp.join(work_dir, 'result.json')
    if reuse and osp.isfile(done):
        with open(done) as f:
            previous = json.load(f)
        if previous.get('key') == key:
            print_log(f'{config} seed {seed}: reusing {done}',
                      logger='current')
            return {k: previous[k] for k in ('seed', *METRICS)}
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
    with atomic_open(done, 'w') as f:
        json.dump(dict(result, key=key), f, indent=2)
    return result


def describe(config: ConfigLike) -> str:
    """A config's path, or the file a Config object was read from."""
    if isinstance(config, str):
        return config
    return getattr(config, 'filename', None) or type(config).__name__


def config_names(configs: Sequence[ConfigLike]) -> List[str]:
    """A short distinct name per config: its file stem (``_2``, ``_3`` …
    appended where stems repeat)."""
    names: List[str] = []
    for i, config in enumerate(configs):
        path = describe(config)
        stem = (osp.splitext(osp.basename(path))[0]
                if path.endswith('.py') else f'config{i}')
        name, n = stem, 1
        while name in names:
            n += 1
            name = f'{stem}_{n}'
        names.append(name)
    return names


def compare_configs(configs: Sequence[ConfigLike],
                    seeds: Sequence[int], out_dir: str,
                    load_from: Optional[str] = None,
                    epochs: Optional[int] = None,
                    cfg_options: Optional[dict] = None,
                    reuse: bool = True) -> dict:
    """Every seed of every config (``out_dir/NAME/seed_S``, names from
    :func:`config_names`), then ``runs.csv`` (one row per run) and
    ``summary.json``: per config after the first and per metric, the
    :class:`PairedGain` over the first config (the baseline)."""
    if isinstance(configs, (str, dict)):
        raise TypeError('compare_configs(configs, seeds, out_dir): give a '
                        'list of configs, the baseline first')
    if len(configs) < 2:
        raise ValueError('compare needs a baseline config and at least one '
                         f'more, got {len(configs)}')
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise ValueError(f'seeds must be at least two distinct values, got '
                         f'{list(seeds)}')
    for config in configs:  # a broken config fails before any training
        load_config(config, cfg_options)
    if load_from is not None and not osp.isfile(load_from):
        raise FileNotFoundError(f'checkpoint to continue from not found: '
                                f'{load_from}')
    names = config_names(configs)
    rows: List[dict] = []
    for seed in seeds:
        for name, config in zip(names, configs):
            work_dir = osp.join(out_dir, name, f'seed_{seed}')
            result = train_and_score(config, seed, work_dir, load_from,
                                     epochs, cfg_options, reuse)
            rows.append(dict(config=name, path=describe(config), **result))
    with atomic_open(osp.join(out_dir, 'runs.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, ['config', 'path', 'seed', *METRICS])
        writer.writeheader()
        writer.writerows(rows)

    def scores(name, metric):
        return [r[metric] for r in rows if r['config'] == name]

    gains = {
        name: {m: paired_gain(scores(names[0], m), scores(name, m))._asdict()
               for m in METRICS}
        for name in names[1:]
    }
    summary = dict(baseline=names[0],
                   configs={n: describe(c) for n, c in zip(names, configs)},
                   seeds=list(seeds), load_from=load_from, epochs=epochs,
                   cfg_options=cfg_options, gains=gains)
    with atomic_open(osp.join(out_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2, default=str)
    return dict(rows=rows, names=names, summary=summary)


def gain_line(summary: dict) -> str:
    """``nmi_gain=… acc_gain=… ari_gain=… (95% CI nmi [lo, hi] …)``."""
    gains = ' '.join(f'{m.lower()}_gain={summary[m]["gain"]:+.2f}'
                     for m in METRICS)
    cis = ' '.join(f'{m.lower()} [{summary[m]["low"]:+.2f}, '
                   f'{summary[m]["high"]:+.2f}]' for m in METRICS)
    return f'{gains} (95% CI {cis})'
