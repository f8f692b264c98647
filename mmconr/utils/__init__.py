from .checkpoint import (allow_mmengine_checkpoints,
                         make_checkpoint_saving_atomic)
from .dist import gather_global_batch
from .launch import setup_launcher, shutdown_distributed
from .setup_env import register_all_modules

__all__ = [
    'allow_mmengine_checkpoints', 'make_checkpoint_saving_atomic',
    'gather_global_batch', 'register_all_modules', 'setup_launcher',
    'shutdown_distributed'
]
