"""Launcher set-up shared by tools/train.py and tools/test.py."""
import os
import os.path as osp
import subprocess

import torch
import torch.distributed as torch_dist


def setup_launcher(cfg, launcher: str, config_path: str,
                   work_dir: str = None):
    """Fill ``cfg.launcher`` / ``cfg.work_dir`` and make multi-process runs
    work on machines without a GPU.

    MMEngine 0.10.7 calls ``torch.cuda.set_device`` when it initialises a
    ``pytorch`` or ``slurm`` launch and gives DDP a CUDA device id; on a
    CPU-only machine both fail. There, the process group is initialised
    with gloo here (so MMEngine skips its own initialisation) and DDP gets
    no device ids.
    """
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    if launcher == 'none' or torch.cuda.is_available():
        return cfg
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if launcher == 'slurm':
        slurm_env()
    if launcher in ('pytorch', 'slurm') and not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg


def slurm_env() -> None:
    """The torch.distributed environment of a Slurm task (as MMEngine sets
    it for GPUs): rank and world size from ``SLURM_PROCID`` /
    ``SLURM_NTASKS``, the first host of ``SLURM_NODELIST`` as master unless
    ``MASTER_ADDR`` is set, ``MASTER_PORT`` defaulting to 29500."""
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
               if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher slurm outside a Slurm task: '
                           f'{", ".join(missing)} not set (use srun, see '
                           'tools/slurm_train.sh)')
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1').strip()
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def shutdown_distributed() -> None:
    """Let every rank finish, then destroy the process group: a process
    that exits with a live gloo group can abort (SIGABRT) while its peer is
    still tearing down."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
