"""Launcher set-up shared by tools/train.py and tools/test.py."""
import os.path as osp

import torch
import torch.distributed as torch_dist


def setup_launcher(cfg, launcher: str, config_path: str,
                   work_dir: str = None):
    """Fill ``cfg.launcher`` / ``cfg.work_dir`` and make multi-process runs
    work on machines without a GPU.

    MMEngine 0.10.7 calls ``torch.cuda.set_device`` when it initialises a
    ``pytorch`` launch and gives DDP a CUDA device id; on a CPU-only machine
    both fail. There, the process group is initialised with gloo here (so
    MMEngine skips its own initialisation) and DDP gets no device ids.
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
    if launcher == 'pytorch' and not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return cfg
