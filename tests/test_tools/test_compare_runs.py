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


def test_bad_comparisons_fail_before_any_training(configs, tmp_path):
    from mmconr.apis.compare import compare_configs
    byol, connr = configs
    with pytest.raises(TypeError, match='give a list of configs'):
        compare_configs(byol, [0, 1], str(tmp_path))
    with pytest.raises(FileNotFoundError, match='missing.py'):
        compare_configs([byol, str(tmp_path / 'missing.py')], [0, 1],
                        str(tmp_path / 'out'))
    with pytest.raises(FileNotFoundError, match='to continue from'):
        compare_configs([byol, connr], [0, 1], str(tmp_path / 'out'),
                        load_from=str(tmp_path / 'none.pth'))
    assert not (tmp_path / 'out').exists()


def test_table_equals_the_runs_and_their_logs(configs, tmp_path, capsys):
    byol, connr = configs
    out = tmp_path / 'cmp'
    result = tool().compare(tool().parse_args(
        [byol, connr, '--seeds', '0', '1', '--out', str(out)]))
    lines = capsys.readouterr().out.strip().splitlines()
    with open(out / 'runs.csv') as f:
        rows = list(csv.DictReader(f))
    assert [(r['config'], r['seed']) for r in rows] == [
        ('byol_tiny', '0'), ('connr_tiny', '0'), ('byol_tiny', '1'),
        ('connr_tiny', '1')]
    for row in rows:
        work_dir = out / row['config'] / f'seed_{row["seed"]}'
        # the test loop's line in the run's own log
        log = next(work_dir.rglob('*.log')).read_text()
        line = [x for x in log.splitlines() if 'Epoch(test)' in x][-1]
        for metric in ('NMI', 'ACC', 'ARI'):
            logged = float(re.search(rf'clustering/{metric}: ([\d.]+)',
                                     line).group(1))
            assert float(row[metric]) == pytest.approx(logged, abs=1e-4)
        assert ('group-aware stage starts' in log) == (row['config'] ==
                                                       'connr_tiny')
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['baseline'] == 'byol_tiny'
    gains = summary['gains']['connr_tiny']
    for metric in ('NMI', 'ACC', 'ARI'):
        a = [float(r[metric]) for r in rows if r['config'] == 'byol_tiny']
        b = [float(r[metric]) for r in rows if r['config'] == 'connr_tiny']
        assert gains[metric]['gain'] == pytest.approx(np.mean(b) - np.mean(a))
        # the printed table's mean ± std row
        assert f'{np.mean(b):.2f} ± {np.std(b, ddof=1):.2f}' in lines[-3]
    assert lines[-2] == 'connr_tiny - byol_tiny:'
    assert lines[-1].startswith(
        f'nmi_gain={gains["NMI"]["gain"]:+.2f} '
        f'acc_gain={gains["ACC"]["gain"]:+.2f} '
        f'ari_gain={gains["ARI"]["gain"]:+.2f} (95% CI nmi [')
    assert (out / 'compare.png').read_bytes()[:4] == b'\x89PNG'
    assert result['summary'] == summary

    # run again with one more config: the four runs are reused, not
    # retrained (their logs stay the only ones), the third one is trained
    third = tmp_path / 'connr_k4.py'
    third.write_text(f'_base_ = [{connr!r}]\n'
                     'model = dict(neighborhood=dict(k=2, k1=3, k2=1))\n')
    again = tool().compare(tool().parse_args(
        [byol, connr, str(third), '--seeds', '0', '1', '--out', str(out)]))
    assert again['rows'][:2] == result['rows'][:2]
    assert len(list((out / 'byol_tiny' / 'seed_0').rglob('*.log'))) == 1
    assert (out / 'connr_k4' / 'seed_1' / 'result.json').is_file()
    assert set(again['summary']['gains']) == {'connr_tiny', 'connr_k4'}


def test_a_result_is_reused_only_for_the_same_run(configs, tmp_path):
    from mmconr.apis.compare import run_key
    from mmconr.utils.config import load_config
    byol, connr = configs
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'one')
    key = run_key(load_config(connr), str(ckpt))
    assert run_key(load_config(connr), str(ckpt)) == key
    assert run_key(load_config(byol), str(ckpt)) != key
    assert run_key(load_config(connr, {'model.neighborhood.k': 3}),
                   str(ckpt)) != key
    assert run_key(load_config(connr), None) != key
    # not the folder it trains in
    moved = load_config(connr)
    moved.work_dir = str(tmp_path / 'elsewhere')
    assert run_key(moved, str(ckpt)) == key
    # values JSON cannot hold are named, not hashed by their repr
    odd = load_config(connr)
    odd.model.extra = {1, 2}
    with pytest.raises(TypeError, match='model.extra'):
        run_key(odd, None)
    ckpt.write_bytes(b'twoo')  # another warm-up under the same name
    assert run_key(load_config(connr), str(ckpt)) != key

    # a result.json of another run is trained over, not returned
    from mmconr.apis.compare import train_and_score
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    stale = dict(seed=0, NMI=-1.0, ACC=-1.0, ARI=-1.0, key='another run')
    (work_dir / 'result.json').write_text(json.dumps(stale))
    result = train_and_score(byol, 0, str(work_dir), epochs=1)
    assert result['NMI'] >= 0
    saved = json.loads((work_dir / 'result.json').read_text())
    assert saved['NMI'] == result['NMI'] and saved['key'] != 'another run'


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
