"""tools/analysis_tools/gpu_check.sh at toy sizes on the CPU: every step
runs and its line reaches summary.txt (the CUDA tests are skipped); the
final lines of benchmark_step.py and benchmark_neighborhood.py agree with
the lines printed before them. The BYOL-vs-ConNR step (cluster_images.py,
tested on its own in test_cluster_images.py) is skipped for want of
--data, which the summary says."""
import os.path as osp
import re
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def final_line(path):
    lines = open(path).read().strip().splitlines()
    return lines, dict(kv.split('=', 1) for kv in lines[-1].split())


def test_gpu_check_runs_every_step_on_cpu(tmp_path):
    from mmconr.clustering.faiss_backend import faiss_available
    out = tmp_path / 'check'
    missing = str(tmp_path / 'no_photos')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools/analysis_tools/gpu_check.sh'),
         '--device', 'cpu', '--tiny', '--out', str(out), '--data', missing,
         '--python', sys.executable],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    summary = (out / 'summary.txt').read_text()
    assert proc.returncode == 0, summary + proc.stdout[-2000:]
    lines = summary.splitlines()
    assert 'FAILED' not in summary
    import torch
    if not torch.cuda.is_available():
        assert any('skipped' in line for line in lines)  # no CUDA here
    assert any('paper, RTX 3090' in line for line in lines)

    # benchmark_step.py: the ratio of the printed times
    step_lines, step = final_line(out / 'benchmark_step.txt')
    assert set(step) == {'instance_ms', 'group_ms', 'ratio'}
    inst, group = float(step['instance_ms']), float(step['group_ms'])
    assert inst > 0 and group > 0
    low, high = (group - .05) / (inst + .05), (group + .05) / (inst - .05)
    assert low - 1e-3 <= float(step['ratio']) <= high + 1e-3
    assert any('batch 128, 32x32 images' in line for line in step_lines)
    assert f'instance_ms={step["instance_ms"]}' in summary

    # benchmark_neighborhood.py: rows, final line, both k-means backends
    nbr_lines, nbr = final_line(out / 'benchmark_neighborhood.txt')
    assert set(nbr) == {'conaff_ms', 'conaff_peak_mb', 'kmeans_s',
                        'inertia_ratio'} | ({
                            'faiss_kmeans_s', 'faiss_inertia_ratio'
                        } if faiss_available() else set())
    rows = [line for line in nbr_lines if re.match(r'\| 10/10/2 \|', line)]
    # B = 256 auto and dense, B = 4096 auto only (dense-max 256)
    assert [r.split('|')[2:4] for r in rows] == [
        [' 256 ', ' auto '], [' 256 ', ' dense '], [' 4096 ', ' auto ']]
    assert float(nbr['conaff_ms']) > 0 and float(nbr['conaff_peak_mb']) >= 0
    # a 5-component mixture: k-means and scikit-learn find the same optimum
    assert abs(float(nbr['inertia_ratio']) - 1) < 5e-3
    large = [line for line in lines
             if line.strip().startswith(('| torch | 3000 | 10 |',
                                         '| faiss | 3000 | 10 |'))]
    assert len(large) == (2 if faiss_available() else 1)

    # BYOL vs ConNR: no folder, one line saying so
    assert f'BYOL vs ConNR: skipped ({missing} not found)' in lines
