"""Make MMEngine 0.10.7 checkpoints save and load under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, which refuses the
Python objects MMEngine writes into a checkpoint's ``message_hub`` and
``meta`` (HistoryBuffer, numpy arrays and scalars, ...), so ``--resume`` and
``load_from`` fail. Instead of asking users for
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, :func:`allow_mmengine_checkpoints`

* allow-lists those few classes for torch's safe unpickler;
* makes ``HistoryBuffer`` pickle without its default statistics functions
  (MMEngine pickles them as ``getattr(HistoryBuffer, 'min')``, and
  ``getattr`` is not something to allow globally); they are restored from
  the class on unpickling, as MMEngine already does;
* loads checkpoints written by plain MMEngine (which do contain those
  ``getattr`` records) by allowing ``getattr`` only while MMEngine's
  checkpoint loader runs.
"""
import collections
import functools

import numpy as np
import torch

_PATCHED = False


def _numpy_globals() -> list:
    items = [np.ndarray, np.dtype]
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    items += [_reconstruct, scalar]
    # numpy >= 1.25 pickles dtypes by their class, e.g. dtypes.Float64DType
    dtype_classes = {type(np.dtype(t)) for t in np.sctypeDict.values()}
    items += sorted(dtype_classes, key=lambda c: c.__name__)
    return items


def _patch_history_buffer(history_buffer_cls) -> None:
    defaults = ('min', 'max', 'current', 'mean')

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['statistics_methods'] = {
            name: method
            for name, method in self._statistics_methods.items()
            if not (name in defaults
                    and method is getattr(history_buffer_cls, name))
        }
        return state

    history_buffer_cls.__getstate__ = __getstate__


def _patch_checkpoint_loader() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader
    original = CheckpointLoader.load_checkpoint.__func__

    @functools.wraps(original)
    def load_checkpoint(cls, *args, **kwargs):
        with torch.serialization.safe_globals([getattr]):
            return original(cls, *args, **kwargs)

    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)


def allow_mmengine_checkpoints() -> None:
    """Idempotent; called by :func:`mmconr.utils.register_all_modules`."""
    global _PATCHED
    if _PATCHED:
        return
    _PATCHED = True
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    _patch_history_buffer(HistoryBuffer)
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 has no weights-only default to satisfy
    torch.serialization.add_safe_globals(
        [HistoryBuffer, ConfigDict, collections.OrderedDict,
         collections.defaultdict] + _numpy_globals())
    _patch_checkpoint_loader()


def atomic_save(save_fn):
    """Wrap MMEngine's ``save_checkpoint`` so that a local checkpoint file is
    written to a temporary file in the same folder and then renamed over
    the target (``os.replace`` is atomic): a run killed while saving leaves
    the previous file intact, never a half-written one."""

    @functools.wraps(save_fn)
    def save_checkpoint(checkpoint, filename, file_client_args=None,
                        backend_args=None):
        if (file_client_args is not None or backend_args is not None
                or '://' in str(filename)):
            return save_fn(checkpoint, filename, file_client_args,
                           backend_args)
        import os
        import os.path as osp
        import tempfile
        folder = osp.dirname(osp.abspath(filename))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f'.{osp.basename(filename)}.', suffix='.part', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filename)
        except BaseException:
            if osp.exists(tmp):
                os.unlink(tmp)
            raise

    save_checkpoint.__mmconr_atomic__ = True
    return save_checkpoint


def make_checkpoint_saving_atomic() -> None:
    """Idempotent; called by :func:`mmconr.utils.register_all_modules`."""
    import mmengine.runner as runner_pkg
    import mmengine.runner.checkpoint as checkpoint_mod
    import mmengine.runner.runner as runner_mod
    if getattr(checkpoint_mod.save_checkpoint, '__mmconr_atomic__', False):
        return
    atomic = atomic_save(checkpoint_mod.save_checkpoint)
    for module in (checkpoint_mod, runner_mod, runner_pkg):
        module.save_checkpoint = atomic
