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
