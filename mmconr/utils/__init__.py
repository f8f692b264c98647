from .checkpoint import (CheckpointReadError, UnsafeCheckpointError,
                         checkpoint_safe_globals, load_checkpoint_file)
from .dist import gather_global_batch
from .launch import setup_launcher, shutdown_distributed
from .paths import find_shipped, shipped_path
from .setup_env import register_all_modules

__all__ = [
    'CheckpointReadError', 'UnsafeCheckpointError', 'checkpoint_safe_globals',
    'load_checkpoint_file', 'find_shipped', 'shipped_path',
    'gather_global_batch', 'register_all_modules', 'setup_launcher',
    'shutdown_distributed'
]
