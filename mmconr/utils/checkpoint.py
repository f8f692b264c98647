"""Loading a checkpoint must never run code or change the program.

Every checkpoint mmconr reads goes through :func:`load_checkpoint_file`:
``torch.load(..., weights_only=True)`` — torch's restricted unpickler, which
only builds tensors, containers and plain data — with a small allow-list
for what MMEngine writes into ``meta`` and ``message_hub``, active only
while the file is read:

* ``HistoryBuffer`` (the logged scalars), ``ConfigDict``, ``defaultdict``
  and the numpy array / scalar / dtype constructors;
* ``builtins.getattr``, which MMEngine pickles for HistoryBuffer's default
  statistics (``getattr(HistoryBuffer, 'min')``, ``'max'``, ``'current'``,
  ``'mean'``), is resolved to :func:`_history_buffer_getattr`, which returns
  exactly those four methods and refuses every other ``getattr``. (The
  real ``getattr`` would let a crafted file reach any allowed function's
  ``__globals__`` and rewrite module globals while it is unpickled.)

Anything else — another global, another ``getattr``, a ``__reduce__``
payload — stops the load with :class:`UnsafeCheckpointError`, naming the
file and the refused global, before it is called.
"""
import collections
import contextlib
import os
import os.path as osp
import pickle
import re
from typing import Any, Iterator, Optional

import numpy as np
import torch

HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a Python global that mmconr does not allow."""


class CheckpointReadError(RuntimeError):
    """A file that cannot be read as a checkpoint at all."""


def _describe(obj: Any) -> str:
    if isinstance(obj, type) or callable(obj):
        module = getattr(obj, '__module__', None) or '?'
        name = getattr(obj, '__qualname__', None) or type(obj).__qualname__
        return f'{module}.{name}'
    return f'a {type(obj).__module__}.{type(obj).__qualname__} object'


def _history_buffer_getattr(obj: Any, name: Any) -> Any:
    """Stands in for ``builtins.getattr`` while a checkpoint is read."""
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'refused global: builtins.getattr({_describe(obj)}, {name!r}) '
        '(only getattr(mmengine.logging.HistoryBuffer, '
        f'{"|".join(HISTORY_BUFFER_METHODS)}) is allowed)')


def _numpy_globals() -> list:
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    # numpy >= 1.25 pickles dtypes by their class, e.g. dtypes.Float64DType
    dtype_classes = {type(np.dtype(t)) for t in np.sctypeDict.values()}
    return [np.ndarray, np.dtype, _reconstruct, scalar] + sorted(
        dtype_classes, key=lambda c: c.__name__)


def checkpoint_globals() -> list:
    """What a checkpoint of MMEngine / mmconr may reference besides torch's
    own weights-only set (see the module docstring)."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    return [
        HistoryBuffer, ConfigDict, collections.OrderedDict,
        collections.defaultdict, (_history_buffer_getattr, 'builtins.getattr')
    ] + _numpy_globals()


@contextlib.contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Allow :func:`checkpoint_globals` for weights-only loads inside the
    block only; torch's process-wide allow-list is left as it was."""
    if not hasattr(torch.serialization, 'safe_globals'):
        raise RuntimeError(
            f'torch {torch.__version__} has no torch.serialization.'
            'safe_globals; mmconr loads checkpoints weights-only and needs '
            'torch >= 2.6')
    # only what is not there already: torch's block removes on exit what it
    # added, and must not take away a user's own allowance
    present = set(torch.serialization.get_safe_globals())
    missing = [g for g in checkpoint_globals() if g not in present]
    with torch.serialization.safe_globals(missing):
        yield


_REFUSED = (
    re.compile(r'refused global: (.+?\)) \(only'),
    re.compile(r'GLOBAL (\S+) was not an allowed global'),
    re.compile(r'unsupported GLOBAL (\S+) whose module'),
    re.compile(r'reduce for unrecognized function (.+?)(?: which|$)', re.M),
    re.compile(r'(?:Can only build|Can only create new object).*?'
               r'but got (.+?)$', re.M),
)


def refused_global(message: str) -> Optional[str]:
    """The global named by an error of torch's weights-only unpickler (or
    of :func:`_history_buffer_getattr`), or None."""
    for pattern in _REFUSED:
        match = pattern.search(message)
        if match:
            return match.group(1).strip().rstrip('.')
    return None


def unsafe_error(filename: str, message: str) -> Exception:
    """The error for a checkpoint that torch's weights-only unpickler
    refused: :class:`UnsafeCheckpointError` when a global is named, else a
    :class:`CheckpointReadError`."""
    name = refused_global(message)
    if name is None:
        first = message.strip().splitlines()[0] if message.strip() else ''
        return CheckpointReadError(
            f'cannot read checkpoint {filename}: {first}')
    return UnsafeCheckpointError(
        f'refused to load checkpoint {filename}: it needs the Python global '
        f'{name}, which is not a tensor, plain data or one of the few '
        'MMEngine objects mmconr allows. Nothing from the file was run. '
        'Only load checkpoints you trust; a file of another program may '
        'need converting (tools/model_converters/).')


def load_checkpoint_file(filename: str,
                         map_location: Any = None) -> Any:
    """``torch.load`` of a local file, weights-only, with the allow-list of
    :func:`checkpoint_globals` (see the module docstring). A file that
    needs any other global raises :class:`UnsafeCheckpointError` naming the
    file and the global; a file that is no checkpoint raises
    :class:`CheckpointReadError`."""
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    with checkpoint_safe_globals():
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as exc:
            raise unsafe_error(filename, str(exc)) from None
        except (RuntimeError, EOFError, ValueError) as exc:
            raise CheckpointReadError(
                f'cannot read checkpoint {filename} '
                f'({type(exc).__name__}: {exc})') from exc


def weights_only_is_forced_off() -> bool:
    """Whether ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` makes torch.load's
    default a full (unsafe) unpickle."""
    return os.getenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in (
        '1', 'y', 'yes', 'true')
