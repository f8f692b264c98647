"""Training curves from what mmengine's LocalVisBackend wrote
(``<work_dir>/<timestamp>/vis_data/scalars.json``, one JSON object per
``add_scalars`` call; TensorBoard receives the same scalars when
``TensorboardVisBackend`` is among ``visualizer.vis_backends``)."""
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List

import numpy as np


def scalar_files(work_dir: str) -> List[str]:
    """The scalars.json of every run in ``work_dir`` (a resumed run adds a
    timestamp folder), oldest first."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no */vis_data/scalars.json under {work_dir}; was it written '
            "by tools/train.py with the LocalVisBackend (the default "
            'visualizer of configs/_base_/default_runtime.py)?')
    return files


def load_scalars(work_dir: str) -> Dict[str, Dict[str, Dict[int, float]]]:
    """``{'train': {key: {iter: value}}, 'epoch': {key: {epoch: value}}}``.

    Training records (those with ``iter``) are keyed by iteration and also
    averaged per (1-based) epoch; the rest (validation metrics at the end
    of an epoch, ``boundary/*`` of BoundaryFilterHook logged before the
    0-based epoch it applies to) are keyed by 1-based epoch. A later run
    (resume) overrides the same step.
    """
    per_iter = defaultdict(dict)
    per_epoch_values = defaultdict(lambda: defaultdict(list))
    per_epoch = defaultdict(dict)
    for path in scalar_files(work_dir):
        with open(path) as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f'{path} line {line_no}: not JSON '
                                     f'({exc})') from exc
                if not isinstance(record, dict) or 'step' not in record:
                    raise ValueError(f'{path} line {line_no}: not an '
                                     'mmengine scalar record (no "step")')
                step = int(record.pop('step'))
                if 'iter' in record:
                    epoch = int(record.pop('epoch', 0))
                    it = int(record.pop('iter'))
                    for key, value in record.items():
                        per_iter[key][it] = value
                        per_epoch_values[key][epoch].append((it, value))
                    continue
                is_boundary = any(k.startswith('boundary/') for k in record)
                epoch = step + 1 if is_boundary else step
                for key, value in record.items():
                    per_epoch[key][epoch] = value
    for key, epochs in per_epoch_values.items():
        for epoch, values in epochs.items():
            latest = dict(values)  # a resumed iteration overrides
            per_epoch[key][epoch] = float(np.mean(list(latest.values())))
    return dict(train=dict(per_iter), epoch=dict(per_epoch))


def training_panels(scalars: dict) -> Dict[str, Dict[str, tuple]]:
    """The panels of :func:`curves_figure`: loss, clustering scores,
    kept fraction, neighbourhood purity and lr per epoch (those logged)."""
    epoch = scalars['epoch']

    def series(key, name=None, scale=1.0):
        values = epoch.get(key)
        if not values:
            return {}
        xs = sorted(values)
        return {name or key: (xs, [scale * values[x] for x in xs], 'epoch')}

    panels = {}
    panels['training loss (mean per epoch)'] = series('loss', 'loss')
    scores = {}
    for metric in ('NMI', 'ACC', 'ARI'):
        key = next((k for k in epoch if k.endswith(f'/{metric}')
                    and not k.startswith('boundary/')), None)
        if key:
            scores.update(series(key, f'{metric} (validation)'))
    scores.update(series('boundary/pseudo_nmi', 'NMI (pseudo labels)'))
    scores.update(series('boundary/pseudo_acc', 'ACC (pseudo labels)'))
    panels['clustering scores (%)'] = scores
    panels['kept fraction of anchors'] = {
        **series('boundary/kept_fraction', 'scheduled fr(t)'),
        **series('kept_frac', 'kept in batches (mean)')
    }
    panels['neighbourhood purity (%)'] = series('nbr_purity', 'ConAff',
                                                100.0)
    panels['learning rate'] = series('lr', 'lr')
    return {name: s for name, s in panels.items() if s}
