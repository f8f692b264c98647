"""Loading a checkpoint must never run code or change the program.

Every checkpoint mmconr reads goes through :func:`load_checkpoint_file`:
``torch.load(..., weights_only=True)`` — torch's restricted unpickler, which
only builds tensors, containers and plain data — with a small allow-list
for what MMEngine writes into ``meta`` and ``message_hub``, active only
while the file is read. Each entry is a narrow stand-in under the name the
file uses, not the real global:

* ``builtins.getattr`` (MMEngine pickles HistoryBuffer's default statistics
  as ``getattr(HistoryBuffer, 'min')``, ``'max'``, ``'current'``,
  ``'mean'``): returns exactly those four methods and refuses every other
  ``getattr`` (the real one would let a file reach an allowed function's
  ``__globals__`` and rewrite module globals);
* ``HistoryBuffer``: takes only its three data fields and MMEngine's own
  default methods (MMEngine's ``__setstate__`` writes a file's methods into
  the class-wide table);
* ``numpy.ndarray`` / ``numpy.dtype``: arrays and dtypes are rebuilt only
  the way numpy pickles them, from plain numeric dtypes (a direct
  ``ndarray(shape, 'O', buffer)`` call or a dtype given object fields by its
  state would turn bytes of the file into object pointers);
* ``ConfigDict`` and numpy's scalar constructor.

Anything else — another global, another ``getattr``, a ``__reduce__``
payload — stops the load with :class:`UnsafeCheckpointError`, naming the
file and the refused global, before it is called.
"""
import contextlib
import os
import os.path as osp
import pickle
import re
from typing import Any, Iterator, Optional

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer

try:
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct, scalar

HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
HISTORY_BUFFER_FIELDS = ('_log_history', '_count_history', 'max_length')
#: dtype kinds an array of a checkpoint may have: bool, integers, floats,
#: complex, bytes, str (no objects, no structured / void types)
SAFE_DTYPE_KINDS = 'biufcSU'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a Python global that mmconr does not allow."""


class CheckpointReadError(RuntimeError):
    """A file that cannot be read as a checkpoint at all."""


def _refuse(what: str, allowed: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(f'refused global: {what} (only {allowed})')


def _describe(obj: Any) -> str:
    if isinstance(obj, type) or callable(obj):
        module = getattr(obj, '__module__', None) or '?'
        name = getattr(obj, '__qualname__', None) or type(obj).__qualname__
        return f'{module}.{name}'
    return f'a {type(obj).__module__}.{type(obj).__qualname__} object'


class _LoadedHistoryBuffer(HistoryBuffer):
    """``HistoryBuffer`` while a checkpoint is read: the state may hold its
    data fields and MMEngine's default statistics only; it never touches
    the class-wide ``_statistics_methods``. Becomes a HistoryBuffer."""

    def __setstate__(self, state):
        allowed = 'MMEngine\'s HistoryBuffer fields and default methods'
        if not isinstance(state, dict) or not set(state) <= set(
                HISTORY_BUFFER_FIELDS + ('statistics_methods', )):
            keys = sorted(state) if isinstance(state, dict) else state
            raise _refuse(f'HistoryBuffer state {keys!r}', allowed)
        methods = state.get('statistics_methods', {})
        for name, method in dict(methods).items():
            if not (name in HISTORY_BUFFER_METHODS
                    and method is getattr(HistoryBuffer, name)):
                raise _refuse(
                    f'HistoryBuffer statistics method {name!r} = '
                    f'{_describe(method)}', allowed)
        for name in HISTORY_BUFFER_FIELDS:
            if name in state:
                self.__dict__[name] = restore_stand_ins(state[name])
        self._set_default_statistics()  # MMEngine's own defaults only
        self.__class__ = HistoryBuffer


def _history_buffer_getattr(obj: Any, name: Any) -> Any:
    """Stands in for ``builtins.getattr`` while a checkpoint is read."""
    if obj in (HistoryBuffer, _LoadedHistoryBuffer) and \
            name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise _refuse(
        f'builtins.getattr({_describe(obj)}, {name!r})',
        'getattr(mmengine.logging.HistoryBuffer, '
        f'{"|".join(HISTORY_BUFFER_METHODS)})')


class _LoadedArray(np.ndarray):
    """``numpy.ndarray`` while a checkpoint is read: it can be rebuilt the
    way numpy pickles arrays (``_reconstruct`` + ``__setstate__``), not
    called as ``ndarray(shape, dtype, buffer)``. Becomes an ndarray."""

    def __new__(cls, *args, **kwargs):
        raise _refuse('numpy.ndarray(...) called directly',
                      "numpy's own array pickles")


def _safe_dtype(spec: Any, align: Any = False, copy: Any = False):
    """Stands in for ``numpy.dtype``: numpy's shared instance of a plain
    numeric / string dtype (a copy could be given object fields by the
    file's state; the shared one ignores it)."""
    try:
        dtype = np.dtype(spec) if isinstance(spec, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in SAFE_DTYPE_KINDS \
            or dtype.fields is not None:
        raise _refuse(f'numpy.dtype({spec!r})',
                      f'dtypes of kinds {SAFE_DTYPE_KINDS!r}')
    return dtype


def restore_stand_ins(obj: Any, seen: Optional[dict] = None) -> Any:
    """``obj`` with the stand-ins replaced by what they stand for (arrays
    as ndarrays, buffers as HistoryBuffers), containers updated in place."""
    seen = {} if seen is None else seen
    if id(obj) in seen:
        return seen[id(obj)]
    if isinstance(obj, _LoadedArray):
        result = seen[id(obj)] = obj.view(np.ndarray)
        return result
    seen[id(obj)] = obj
    if isinstance(obj, HistoryBuffer):
        if type(obj) is _LoadedHistoryBuffer:
            obj.__class__ = HistoryBuffer
        for name in HISTORY_BUFFER_FIELDS:
            if name in obj.__dict__:
                value = obj.__dict__[name]
                obj.__dict__[name] = restore_stand_ins(value, seen)
    elif isinstance(obj, dict):
        for key in list(obj):
            obj[key] = restore_stand_ins(obj[key], seen)
    elif isinstance(obj, list):
        obj[:] = [restore_stand_ins(v, seen) for v in obj]
    elif type(obj) is tuple:
        result = tuple(restore_stand_ins(v, seen) for v in obj)
        seen[id(obj)] = result
        return result
    return obj


def _global_name(item: Any) -> str:
    if isinstance(item, tuple):
        return item[1]
    return f'{item.__module__}.{item.__qualname__}'


def checkpoint_globals() -> list:
    """What a checkpoint of MMEngine / mmconr may reference besides torch's
    own weights-only set (see the module docstring)."""
    safe_dtype_classes = sorted(
        {type(np.dtype(t)) for t in np.sctypeDict.values()
         if np.dtype(t).kind in SAFE_DTYPE_KINDS}, key=lambda c: c.__name__)
    return [
        (_history_buffer_getattr, 'builtins.getattr'),
        (_LoadedHistoryBuffer, _global_name(HistoryBuffer)),
        (_LoadedArray, 'numpy.ndarray'),
        (_safe_dtype, 'numpy.dtype'),
        (_reconstruct, _global_name(_reconstruct)),
        (scalar, _global_name(scalar)),
        ConfigDict,
    ] + safe_dtype_classes


@contextlib.contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Inside the block, torch's weights-only allow-list is the user's own
    plus :func:`checkpoint_globals`, which take precedence over a user's
    entry of the same name (a user's real ``getattr``, say); on exit it is
    exactly what it was. (The list is process-wide: not for loads in
    several threads at once.)"""
    if not hasattr(torch.serialization, 'clear_safe_globals'):
        raise RuntimeError(
            f'torch {torch.__version__} cannot extend its weights-only '
            'unpickler; mmconr loads checkpoints weights-only and needs '
            'torch >= 2.6')
    ours = checkpoint_globals()
    names = {_global_name(item) for item in ours}
    saved = torch.serialization.get_safe_globals()
    kept = [item for item in saved if _global_name(item) not in names]
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(kept + ours)
    try:
        yield
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(saved)


_REFUSED = (
    re.compile(r'refused global: (.+?) \(only'),
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
        'MMEngine objects mmconr allows; it was refused before that '
        'global was called. Only load checkpoints you trust; a file of '
        'another program may need converting (tools/model_converters/).')


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
            loaded = torch.load(
                filename, map_location=map_location, weights_only=True)
        except Exception as exc:
            raise load_error(filename, exc) from None
    return restore_stand_ins(loaded)


def load_error(filename: str, exc: Exception) -> Exception:
    """The error to raise for ``exc``, met while loading ``filename``."""
    if isinstance(exc, pickle.UnpicklingError):
        return unsafe_error(filename, str(exc))
    return CheckpointReadError(
        f'cannot read checkpoint {filename} ({type(exc).__name__}: {exc})')


def weights_only_is_forced_off() -> bool:
    """Whether ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` makes torch.load's
    default a full (unsafe) unpickle."""
    return os.getenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in (
        '1', 'y', 'yes', 'true')
