from .checkpoint import allow_mmengine_checkpoints
from .dist import gather_global_batch
from .launch import setup_launcher
from .setup_env import register_all_modules

__all__ = [
    'allow_mmengine_checkpoints', 'gather_global_batch',
    'register_all_modules', 'setup_launcher'
]
