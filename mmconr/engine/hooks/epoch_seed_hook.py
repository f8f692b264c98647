"""EpochSeedHook: per-epoch random state, so that ``--resume`` is exact."""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmconr.registry import HOOKS
from ..runner_utils import restart_workers


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """A 32-bit seed that depends on (seed, epoch, rank) only."""
    sequence = np.random.SeedSequence([seed, epoch, rank])
    return int(sequence.generate_state(1)[0])


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Re-seed Python's, NumPy's and torch's global generators before every
    training epoch from (``runner.seed``, epoch, rank).

    MMEngine seeds them once, when the runner is built, and does not save
    their state in checkpoints: a run resumed at epoch e then draws other
    augmentations (and MoCo shuffles) than the uninterrupted run did from
    epoch e on. With this hook every epoch's random stream depends on the
    epoch alone, so a resumed run continues exactly (given
    ``randomness.deterministic=True`` on GPUs).

    Dataloader workers are seeded by MMEngine's ``worker_init_fn`` when they
    start; persistent workers would carry their stream across epochs, so
    with ``randomness.deterministic=True`` they are restarted every epoch.

    Args:
        diff_rank: give every rank its own stream (default: follow
            ``randomness.diff_rank_seed``).
    """
    priority = 'VERY_HIGH'

    def __init__(self, diff_rank=None) -> None:
        self.diff_rank = diff_rank

    def before_train_epoch(self, runner) -> None:
        randomness = getattr(runner, '_randomness_cfg', {}) or {}
        diff_rank = self.diff_rank
        if diff_rank is None:
            diff_rank = bool(randomness.get('diff_rank_seed', False))
        seed = epoch_seed(runner.seed, runner.epoch,
                          get_rank() if diff_rank else 0)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        if randomness.get('deterministic', False) and getattr(
                runner.train_dataloader, 'persistent_workers', False):
            restart_workers(runner.train_dataloader)
