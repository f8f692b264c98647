from .replay import build_param_schedulers, step_after_iteration
from .warmup_cosine_lr import WarmupCosineLR, warmup_cosine_factor

__all__ = [
    'build_param_schedulers', 'step_after_iteration', 'WarmupCosineLR',
    'warmup_cosine_factor'
]
