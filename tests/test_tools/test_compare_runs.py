"""compare_runs.py on a tiny config (2 seeds, 2 epochs): the table equals
the per-run results and logs, the interval is the paired t written out,
and continuations of one checkpoint differ per seed."""
import csv
import json
import math
import os.path as osp
import re

import numpy as np
import pytest
import torch
from scipy import stats

from mmconr.apis.compare import paired_gain
from mmconr.utils import load_checkpoint_file
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')
TINY = '''_base_ = [{demo!r}]
train_dataloader = dict(batch_size=20, dataset=dict(indices=64))
feature_dataloader = dict(dataset=dict(indices=64))
val_dataloader = dict(dataset=dict(indices=64))
test_dataloader = dict(dataset=dict(indices=64))
conr_start_epoch = 1
relax_end_epoch = 2
train_cfg = dict(max_epochs=2, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=-1),
                     logger=dict(interval=100))
'''


def tool():
    return load_tool('analysis_tools/compare_runs')


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('compare_cfgs')
    byol, connr = tmp / 'byol_tiny.py', tmp / 'connr_tiny.py'
    connr.write_text(TINY.format(demo=DEMO))
    # the same model and data, BYOL all the way (no stage hooks)
    byol.write_text(TINY.format(demo=DEMO) + 'custom_hooks = []\n')
    return str(byol), str(connr)


def test_paired_gain_is_the_paired_t_interval():
    a, b = [80.0, 82.0, 79.0], [83.0, 82.5, 81.0]
    g = paired_gain(a, b)
    d = [y - x for x, y in zip(a, b)]
    mean = sum(d) / 3
    sd = math.sqrt(sum((v - mean)**2 for v in d) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert g.gain == pytest.approx(mean)
    assert (g.low, g.high) == pytest.approx((mean - half, mean + half))
    assert g.std_a == pytest.approx(np.std(a, ddof=1))
    with pytest.raises(ValueError, match='at least two'):
        paired_gain([1.0], [2.0])


def test_table_equals_the_runs_and_their_logs(configs, tmp_path, capsys):
    byol, connr = configs
    out = tmp_path / 'cmp'
    result = tool().compare(tool().parse_args(
        [byol, connr, '--seeds', '0', '1', '--out', str(out)]))
    lines = capsys.readouterr().out.strip().splitlines()
    with open(out / 'runs.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['config'], r['seed']) for r in rows] == [
        ('A', '0'), ('B', '0'), ('A', '1'), ('B', '1')]
    for row in rows:
        work_dir = out / row['config'] / f'seed_{row["seed"]}'
        # the test loop's line in the run's own log
        log = next(work_dir.rglob('*.log')).read_text()
        line = [x for x in log.splitlines() if 'Epoch(test)' in x][-1]
        for metric in ('NMI', 'ACC', 'ARI'):
            logged = float(re.search(rf'clustering/{metric}: ([\d.]+)',
                                     line).group(1))
            assert float(row[metric]) == pytest.approx(logged, abs=1e-4)
        assert ('group-aware stage starts' in log) == (row['config'] == 'B')
    summary = json.loads((out / 'summary.json').read_text())['metrics']
    for metric in ('NMI', 'ACC', 'ARI'):
        a = [float(r[metric]) for r in rows if r['config'] == 'A']
        b = [float(r[metric]) for r in rows if r['config'] == 'B']
        assert summary[metric]['gain'] == pytest.approx(np.mean(b) -
                                                        np.mean(a))
    assert lines[-1].startswith(
        f'nmi_gain={summary["NMI"]["gain"]:+.2f} '
        f'acc_gain={summary["ACC"]["gain"]:+.2f} '
        f'ari_gain={summary["ARI"]["gain"]:+.2f} (95% CI nmi [')
    assert (out / 'compare.png').read_bytes()[:4] == b'\x89PNG'
    assert result['summary'] == summary


def test_continuations_of_one_checkpoint_differ_per_seed(configs, tmp_path):
    from mmconr.apis.compare import train_and_score
    byol, connr = configs
    # the shared warm-up: one BYOL epoch
    warm = tmp_path / 'warm'
    train_and_score(byol, 0, str(warm), epochs=1)
    start = str(warm / 'epoch_1.pth')
    finals = []
    for seed in (0, 1):
        work_dir = tmp_path / f'cont{seed}'
        train_and_score(connr, seed, str(work_dir), load_from=start)
        log = next(work_dir.rglob('*.log')).read_text()
        assert 'resumed epoch: 1' in log  # the warm-up's weights and epoch
        state = load_checkpoint_file(str(work_dir / 'epoch_2.pth'))
        assert state['meta']['seed'] == seed  # not the checkpoint's seed 0
        finals.append(state['state_dict'])
    # the same start, another random stream: other weights after an epoch
    key = next(k for k in finals[0] if k.endswith('conv1.weight'))
    assert not torch.equal(finals[0][key], finals[1][key])
