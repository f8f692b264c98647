"""Launcher set-up shared by tools/train.py and tools/test.py."""
import os
import os.path as osp
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist


def launch_world_size(launcher: str) -> int:
    """How many processes the launch starts, from the launcher's
    environment (torchrun / Slurm / MPI), before any process group
    exists."""
    if launcher == 'none':
        return 1
    for key in ('WORLD_SIZE', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE'):
        if os.environ.get(key):
            return int(os.environ[key])
    raise RuntimeError(f'--launcher {launcher}: the number of processes is '
                       'unknown (none of WORLD_SIZE, SLURM_NTASKS, '
                       'OMPI_COMM_WORLD_SIZE is set)')


def resolve_batch_size(cfg, world_size: int,
                       batch_size: Optional[int] = None) -> Optional[str]:
    """Set ``train_dataloader.batch_size`` (per process) from the config's
    ``global_batch_size`` and the number of processes; returns the line
    to log, or None for a config without ``global_batch_size``.

    ``batch_size`` is a per-process batch the user asked for (``--cfg-options
    train_dataloader.batch_size=...``): it must agree with the global one.
    The ``batch_size`` written in the config file itself is its 1-process
    form and is replaced. Set ``global_batch_size=None`` to train with a
    per-process batch instead.
    """
    total = cfg.get('global_batch_size')
    if total is None:
        return None
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise ValueError(f'global_batch_size must be a positive integer, '
                         f'got {total!r}')
    if total % world_size:
        raise ValueError(
            f'global_batch_size={total} cannot be split over {world_size} '
            f'processes ({total} / {world_size} is not an integer); launch '
            f'a number of processes that divides {total}, or set '
            'global_batch_size')
    per_process = total // world_size
    if batch_size is not None and batch_size != per_process:
        raise ValueError(
            f'train_dataloader.batch_size={batch_size} x {world_size} '
            f'processes = {batch_size * world_size} contradicts '
            f'global_batch_size={total}; set only one of them '
            '(global_batch_size=None keeps a per-process batch)')
    cfg.train_dataloader.batch_size = per_process
    return (f'global batch {total} = {world_size} process'
            f'{"es" if world_size > 1 else ""} x {per_process}')


def setup_launcher(cfg, launcher: str, config_path: str,
                   work_dir: str = None, batch_size: Optional[int] = None,
                   training: bool = True):
    """Fill ``cfg.launcher`` / ``cfg.work_dir``, derive the per-process
    batch from ``global_batch_size`` when ``training``
    (:func:`resolve_batch_size`; logged) and make multi-process runs work
    on machines without a GPU.

    MMEngine 0.10.7 calls ``torch.cuda.set_device`` when it initialises a
    ``pytorch`` or ``slurm`` launch and gives DDP a CUDA device id; on a
    CPU-only machine both fail. There, the process group is initialised
    with gloo here (so MMEngine skips its own initialisation) and DDP gets
    no device ids.
    """
    cfg.launcher = launcher
    message = resolve_batch_size(cfg, launch_world_size(launcher),
                                 batch_size) if training else None
    rank = os.environ.get('RANK', os.environ.get('SLURM_PROCID', '0'))
    if message is not None and int(rank) == 0:
        print(f'mmconr: {message}', flush=True)
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
