"""2 CPU processes (torchrun, gloo) x B/2 == 1 process x B.

The group-aware loss sees the neighbours of the *global* batch, its
normaliser makes DDP's gradient average the global mean, SyncBN
synchronises on CPU, and the per-epoch pseudo labels are computed once
and broadcast. Each of these, if broken, changes the numbers compared here.
"""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from tests import dist_worker

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def torchrun(mode: str, out_dir, nproc: int = 2):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           f'--nproc_per_node={nproc}', f'--master_port={free_port()}',
           osp.join(ROOT, 'tests/dist_worker.py'), mode, str(out_dir)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return [torch.load(osp.join(out_dir, f'rank{r}.pt'), weights_only=False)
            for r in range(nproc)]


@pytest.fixture(scope='module')
def two_process_steps(tmp_path_factory):
    return torchrun('steps', tmp_path_factory.mktemp('steps'))


def assert_same(ours: dict, ref: dict, what: str, atol=1e-10):
    assert ours.keys() == ref.keys(), what
    for name in ref:
        torch.testing.assert_close(
            ours[name].double(), ref[name].double(), rtol=0, atol=atol,
            msg=lambda m: f'{what} {name}: {m}')


@pytest.mark.parametrize('stage', ['instance', 'group'])
@pytest.mark.parametrize('variant', sorted(dist_worker.MODEL_CFGS))
def test_two_processes_equal_one(two_process_steps, variant, stage):
    """Loss, gradients (every step) and the state after two SGD steps:
    online and target/key networks, BN statistics, MoCo queue (fp64, so
    1e-10 separates semantics from summation order; the task asks 1e-5)."""
    torch.set_num_threads(1)
    ref = dist_worker.train_steps(variant, stage == 'group')
    for rank, results in enumerate(two_process_steps):
        ours = results[f'{variant}-{stage}']
        assert ours['losses'] == pytest.approx(ref['losses'], abs=1e-10)
        for step, (g, g_ref) in enumerate(zip(ours['grads'], ref['grads'])):
            assert_same(g, g_ref, f'rank {rank} step {step} grad')
        assert_same(ours['state'], ref['state'], f'rank {rank} state')


def test_two_processes_pseudo_labels(tmp_path):
    """Whole-dataset features over 2 ranks (101 images: the sampler pads
    one), k-means runs spread over the ranks: both ranks hold the
    single-process centroids and pseudo labels; so does the sharded
    k-means, where no rank holds all features."""
    ranks = torchrun('pseudo_labels', tmp_path)
    torch.set_num_threads(1)
    ref = dist_worker.pseudo_labels(str(tmp_path / 'single'))
    assert ref['pseudo_labels'].shape == (101, )
    for state in ranks:
        assert state['epoch'] == ref['epoch'] == 0
        assert state['fraction'] == ref['fraction']
        assert torch.equal(state['pseudo_labels'], ref['pseudo_labels'])
        torch.testing.assert_close(state['centroids'], ref['centroids'],
                                   rtol=0, atol=1e-6)
        # BoundaryFilterHook(sharded_kmeans=True): each rank embeds its own
        # block, k-means over the blocks: the same pseudo labels
        gathered, sharded = state['after']['gathered'], \
            state['after']['sharded']
        assert torch.equal(sharded['pseudo_labels'],
                           gathered['pseudo_labels'])
        assert sharded['pseudo_labels'].shape == (101, )
        torch.testing.assert_close(sharded['centroids'],
                                   gathered['centroids'], rtol=0, atol=1e-5)
    assert len(set(ranks[0]['after']['sharded']['pseudo_labels'].tolist())
               ) > 1
