"""MMEngine's checkpoint loading and saving, made safe and atomic.

Loading (every MMEngine version that has ``CheckpointLoader``): MMEngine
0.10.7 calls ``torch.load(filename, map_location)`` with torch's default
``weights_only``. Under torch >= 2.6 that default refuses the HistoryBuffer,
numpy and ``getattr`` records MMEngine itself writes, so ``--resume`` and
``load_from`` fail (mmengine issue 1655; the upstream fix, pull request
1650, passes ``weights_only=False`` — a full, code-running unpickle — and is
not in a release). mmconr instead registers, through MMEngine's public
``CheckpointLoader.register_scheme``, loaders that read

* local files with :func:`mmconr.utils.checkpoint.load_checkpoint_file`
  (explicitly weights-only, with the narrow allow-list described there);
* every other scheme (http, s3, open-mmlab://, ...) with MMEngine's own
  loader, inside that allow-list and only while torch's default is
  weights-only (refused when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is set).

A refused file raises :class:`~mmconr.utils.checkpoint.UnsafeCheckpointError`
naming the file and the global; nothing in it is run.

Saving (MMEngine <= 0.10.7 writes in place; no upstream issue or fix
known): ``save_checkpoint`` calls ``torch.save`` on the final path, so a run
killed while it writes leaves a truncated ``epoch_N.pth``. The patch
writes to a temporary file in the same folder and renames it over the target
(``os.replace`` is atomic), for local paths; other backends are untouched.
"""
import functools

import torch
from mmengine.utils import digit_version

from mmconr.utils.checkpoint import (finish_load, load_checkpoint_file,
                                     weights_only_is_forced_off)
from mmconr.utils.io import atomic_open

#: the last MMEngine release whose save_checkpoint is known to write in place
ATOMIC_SAVE_UP_TO = '0.10.7'


def load_from_local(filename, map_location=None):
    """Load a local checkpoint weights-only (mmconr's safe loader)."""
    return load_checkpoint_file(filename, map_location)


load_from_local.__mmconr_patch__ = True


def _guarded(loader):
    """MMEngine's ``loader`` (a remote scheme), run inside the allow-list
    and refused when torch.load's default is not weights-only."""

    @functools.wraps(loader)
    def load(filename, map_location=None, *args, **kwargs):
        if weights_only_is_forced_off():
            raise RuntimeError(
                f'refused to load checkpoint {filename}: '
                'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set, which would make '
                'torch.load run any code in the file; unset it (mmconr '
                'loads checkpoints weights-only)')
        return finish_load(filename, loader, filename, map_location, *args,
                           **kwargs)

    load.__mmconr_patch__ = True
    return load


def patch_checkpoint_loading() -> bool:
    """Idempotent. Registers the safe loaders for every scheme MMEngine
    knows; returns whether they are in place."""
    from mmengine.runner.checkpoint import CheckpointLoader
    schemes = dict(CheckpointLoader._schemes)
    for prefix, loader in schemes.items():
        if getattr(loader, '__mmconr_patch__', False):
            continue
        safe = load_from_local if prefix == '' else _guarded(loader)
        CheckpointLoader.register_scheme(prefix, safe, force=True)
    return True


def atomic_save(save_fn):
    """Wrap MMEngine's ``save_checkpoint`` so that a local checkpoint file is
    written to a temporary file in the same folder and then renamed over
    the target: a run killed while saving leaves the previous file intact,
    never a half-written one."""

    @functools.wraps(save_fn)
    def save_checkpoint(checkpoint, filename, file_client_args=None,
                        backend_args=None):
        if (file_client_args is not None or backend_args is not None
                or '://' in str(filename)):
            return save_fn(checkpoint, filename, file_client_args,
                           backend_args)
        with atomic_open(filename, 'wb') as f:
            torch.save(checkpoint, f)

    save_checkpoint.__mmconr_patch__ = True
    return save_checkpoint


def patch_atomic_save() -> bool:
    """Idempotent; returns whether the patch is in place (only for MMEngine
    <= :data:`ATOMIC_SAVE_UP_TO`; a later release is left alone)."""
    import mmengine
    import mmengine.runner as runner_pkg
    import mmengine.runner.checkpoint as checkpoint_mod
    import mmengine.runner.runner as runner_mod
    if getattr(checkpoint_mod.save_checkpoint, '__mmconr_patch__', False):
        return True
    if digit_version(mmengine.__version__) > digit_version(ATOMIC_SAVE_UP_TO):
        return False
    atomic = atomic_save(checkpoint_mod.save_checkpoint)
    for module in (checkpoint_mod, runner_mod, runner_pkg):
        module.save_checkpoint = atomic
    return True
