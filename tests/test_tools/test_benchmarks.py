"""The benchmark scripts run on CPU at tiny sizes and end with their
one-line summaries, whose numbers agree with the lines printed before
(benchmark_step.py and benchmark_neighborhood.py: through
tools/analysis_tools/gpu_check.sh, tests/test_tools/test_gpu_check.py)."""
import os.path as osp

import pytest

from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools', 'analysis_tools')
DEMO = osp.join(ROOT, 'configs', 'demo', 'byol_conr_digits.py')


def run(capsys, script, *args):
    """analysis_tools/SCRIPT ARGS in this process (tests/tool_loader.py):
    its printed lines and the key=value pairs of the last one."""
    capsys.readouterr()
    load_tool('analysis_tools/' + osp.splitext(script)[0]).main(list(args))
    lines = capsys.readouterr().out.strip().splitlines()
    return lines, dict(
        kv.split('=', 1) for kv in lines[-1].split())


def test_benchmark_epoch_final_line(capsys):
    lines, summary = run(capsys, 'benchmark_epoch.py', DEMO, '--epochs', '1',
                         '--warmup-epochs', '0', '--synthetic', '128',
                         '--num-workers', '0')
    assert set(summary) == {'byol_s', 'conr_s', 'ratio'}
    byol, conr = float(summary['byol_s']), float(summary['conr_s'])
    assert byol > 0 and conr > 0
    # the seconds are printed to 2 decimals, the ratio from the exact ones
    low, high = (conr - 5e-3) / (byol + 5e-3), (conr + 5e-3) / (byol - 5e-3)
    assert low - 1e-3 <= float(summary['ratio']) <= high + 1e-3
    # one counted epoch per run, and the ConNR one paid for its k-means
    rounds = [line for line in lines if line.startswith('# round 0')]
    assert len(rounds) == 2 and 'feature pass + k-means' in rounds[1]


def test_compare_kmeans_final_line_and_the_official_algorithm(capsys):
    lines, summary = run(capsys, 'compare_kmeans.py', '--seeds', '0', '1',
                         '--n-init', '2', '--max-iter', '50')
    assert set(summary) == {'inertia_ratio', 'nmi_between', 'nmi_gt_mmconr',
                            'nmi_gt_official', 'nmi_mmconr_seeds'}
    rows = [line.split() for line in lines if line.startswith('digits ')]
    assert len(rows) == 2
    ratios = [float(r[4]) for r in rows]
    assert float(summary['inertia_ratio']) == pytest.approx(
        sum(ratios) / 2, abs=1e-4)
    assert 0.95 < float(summary['inertia_ratio']) < 1.05
    # the written-out official k-means separates well-separated clusters
    import importlib.util

    import torch
    from sklearn.datasets import make_blobs
    from sklearn.metrics import normalized_mutual_info_score
    spec = importlib.util.spec_from_file_location(
        'compare_kmeans', osp.join(TOOLS, 'compare_kmeans.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = make_blobs(600, n_features=8, centers=5, cluster_std=0.3,
                      random_state=0)
    x = torch.nn.functional.normalize(torch.tensor(x, dtype=torch.float32),
                                      dim=1)
    labels, centres = module.official_kmeans(x, 5, n_init=3, seed=0)
    assert normalized_mutual_info_score(y, labels) > 0.99
    # plain-mean centres (not unit norm), the labels their cosine nearest
    assert not torch.allclose(centres.norm(dim=1), torch.ones(5))
    assert torch.equal(labels, module.cosine_distance(x, centres).argmin(1))
