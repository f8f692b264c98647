"""tools/dist_train.sh and tools/slurm_train.sh on a machine without GPU:
2 CPU processes (gloo) train the digits demo through the ConNR stage."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = 'configs/demo/byol_conr_digits.py'
OPTIONS = [
    '--cfg-options', 'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
    'custom_hooks.0.start_epoch=1', 'custom_hooks.1.start_epoch=1',
    'custom_hooks.1.end_epoch=2', 'global_batch_size=32',
    'default_hooks.checkpoint.interval=1'
] + [
    f'{key}.dataset.indices=101'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'feature_dataloader')
]

FAKE_SRUN = r'''#!/usr/bin/env bash
# stands in for Slurm's srun: runs --ntasks copies of the command locally
N=1
while [[ $# -gt 0 && $1 == -* ]]; do
  case $1 in
    --ntasks=*) N=${1#--ntasks=} ;;
    -p) shift ;;
  esac
  shift
done
pids=()
for ((i = 0; i < N; i++)); do
  SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$N \
  SLURM_NODELIST=fake-node[1-2] "$@" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait $p || rc=1; done
exit $rc
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run(cmd, env):
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def check_run(work_dir, log):
    assert 'Distributed training: True' in log
    # the config's global batch, split over the two processes
    assert 'mmconr: global batch 32 = 2 processes x 16' in log
    assert 'ConAffNeckHook: epoch 1' in log or \
        'group-aware stage starts at epoch 1' in log
    assert 'BoundaryFilterHook: epoch 1: kept fraction 0.800' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


@pytest.fixture
def env(tmp_path):
    # the scripts call `python`: this interpreter's
    path = f'{osp.dirname(sys.executable)}:{os.environ["PATH"]}'
    return dict(os.environ, OMP_NUM_THREADS='1', PORT=str(free_port()),
                MASTER_PORT=str(free_port()), PATH=path)


def test_dist_train_sh_on_cpu(tmp_path, env):
    work_dir = str(tmp_path / 'work')
    log = run(['bash', 'tools/dist_train.sh', CFG, '2', '--work-dir',
               work_dir] + OPTIONS, env)
    check_run(work_dir, log)


def test_slurm_train_sh_on_cpu(tmp_path, env):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'scontrol').write_text('#!/usr/bin/env bash\necho 127.0.0.1\n')
    for tool in ('srun', 'scontrol'):
        os.chmod(bin_dir / tool, 0o755)
    env.update(PATH=f'{bin_dir}:{env["PATH"]}', GPUS='2', GPUS_PER_NODE='0',
               TASKS_PER_NODE_CPU='2')
    work_dir = str(tmp_path / 'work')
    log = run(['bash', 'tools/slurm_train.sh', 'cpu', 'demo', CFG, work_dir]
              + OPTIONS, env)
    assert 'Distributed launcher: slurm' in log
    check_run(work_dir, log)
