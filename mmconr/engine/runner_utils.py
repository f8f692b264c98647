"""What the hooks share about the runner: config keys named by a string,
the train pipeline, dataloader workers and the work dir's records.

Why not mmpretrain's ``SwitchRecipeHook`` for the stage-2 pipeline: it
replays its switches only on ``--resume`` and at 1-based action epochs, and
leaves persistent workers running with the old dataset copy; ConNR's stage
is a function of the epoch alone (restored by any resume path) and
:class:`EpochSeedHook` needs the same worker restart.
"""
from typing import List

from mmengine.dataset import Compose
from mmengine.dist import get_world_size
from mmengine.runner import Runner, find_latest_checkpoint

from mmconr.utils.config import config_value


def from_config(runner, hook: str, name: str, value):
    """:func:`mmconr.utils.config.config_value` of the runner's config."""
    return config_value(runner.cfg, hook, name, value)


def read_config_keys(runner, hook) -> dict:
    """Replace every argument of ``hook.CONFIG_KEYS`` that names a top-level
    key of the runner's config by that key's value; returns
    ``{argument: config key}`` of those replaced (for error messages)."""
    named = {}
    for name in hook.CONFIG_KEYS:
        value = getattr(hook, name)
        if isinstance(value, str):
            named[name] = value
        setattr(hook, name,
                from_config(runner, type(hook).__name__, name, value))
    return named


def naming_keys(error: ValueError, hook, named: dict) -> ValueError:
    """``error`` with the hook and the config keys its arguments came
    from, so that the message names what the user wrote."""
    keys = ', '.join(f'{arg} from {key!r}' for arg, key in named.items())
    return ValueError(f'{type(hook).__name__}: {error}' +
                      (f' (config keys: {keys})' if keys else ''))


def auto_scale_ratio(runner) -> float:
    """The factor mmengine's ``auto_scale_lr`` applied to every param
    group's lr (1 when it is off): the real batch over ``base_batch_size``.
    mmengine scales the groups but not ``optimizer.defaults['lr']``."""
    cfg = getattr(runner, 'cfg', None) or {}
    auto = cfg.get('auto_scale_lr') or {}
    if not auto.get('enable', False):
        return 1.0
    real = runner.train_dataloader.batch_size * get_world_size()
    return real / auto['base_batch_size']


def set_pipeline(dataset, pipeline: List[dict]) -> None:
    """Replace the pipeline of ``dataset`` (through dataset wrappers)."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for sub in dataset.datasets:
            set_pipeline(sub, pipeline)
    elif hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        set_pipeline(dataset.dataset, pipeline)
    elif hasattr(dataset, 'pipeline'):
        dataset.pipeline = Compose(pipeline)
    else:
        raise TypeError(f'cannot set the pipeline of {type(dataset).__name__}')


def restart_workers(dataloader) -> None:
    """Make a dataloader with persistent workers pick up a changed dataset:
    its workers hold a copy of the dataset, so they are shut down and
    re-created on the next iteration."""
    iterator = getattr(dataloader, '_iterator', None)
    if iterator is not None:
        shutdown = getattr(iterator, '_shutdown_workers', None)
        if shutdown is not None:
            shutdown()
        dataloader._iterator = None


def last_checkpoint(runner) -> str:
    """The runner's last checkpoint, for messages."""
    return find_latest_checkpoint(runner.work_dir) or 'none written yet'


def train_from_config(cfg) -> str:
    """Train ``cfg`` (its ``work_dir`` set) with an mmengine Runner; the
    path of the last checkpoint it wrote."""
    if not cfg.get('work_dir'):
        raise ValueError('train_from_config: the config has no work_dir')
    Runner.from_cfg(cfg).train()
    path = find_latest_checkpoint(cfg.work_dir)
    if path is None:
        raise RuntimeError(f'training wrote no checkpoint in {cfg.work_dir}')
    return path
