"""Make MMEngine 0.10.7 checkpoints loadable under torch >= 2.6.

torch >= 2.6 loads with ``weights_only=True`` by default, which refuses the
Python objects MMEngine writes into a checkpoint's ``message_hub`` and
``meta`` (HistoryBuffer, numpy scalars and arrays, ...), so ``--resume``
fails. Instead of asking users for ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``, the
few classes involved are allow-listed for the safe unpickler.
"""
import numpy as np
import torch


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


def allow_mmengine_checkpoints() -> None:
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is None:  # torch < 2.4 loads anything
        return
    from mmengine.logging import HistoryBuffer
    from mmengine.config import ConfigDict
    import collections
    add_safe_globals([
        HistoryBuffer, ConfigDict, collections.OrderedDict,
        collections.defaultdict
    ] + _numpy_globals())
