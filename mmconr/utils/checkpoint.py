"""Loading a checkpoint must never run code or change the program.

Every checkpoint mmconr reads goes through :func:`load_checkpoint_file`:
``torch.load(..., weights_only=True)`` — torch's restricted unpickler, which
only builds tensors, containers and plain data — with the six further
globals an MMEngine checkpoint needs (numpy arrays / scalars of its logged
history, ``HistoryBuffer`` and ``getattr(HistoryBuffer, 'min')``-style
records) resolved to inert records while the file is read, and made into
real objects afterwards only where they have exactly the form numpy and
MMEngine write (:mod:`mmconr.utils.checkpoint_records`). Nothing of numpy
or MMEngine runs on the file's data during unpickling; the allow-list
changes only for the duration of the load.

Anything else — another global, a ``getattr`` other than those, a
``__reduce__`` payload — stops the load with :class:`UnsafeCheckpointError`
naming the file and what was refused.
"""
import contextlib
import os
import os.path as osp
import pickle
import re
from typing import Any, Iterator, Optional

import torch

from .checkpoint_records import (RECORDS, UnsafeCheckpointError, rebuild,
                                 record_globals)


class CheckpointReadError(RuntimeError):
    """A file that cannot be read as a checkpoint at all."""


def _global_name(item: Any) -> str:
    if isinstance(item, tuple):
        return item[1]
    return f'{item.__module__}.{item.__qualname__}'


@contextlib.contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Inside the block, torch's weights-only allow-list is the user's own
    plus the inert records of :func:`record_globals` under the names they
    stand for, which replace a user's entry of the same name (a user's real
    ``getattr``, say); on exit it is exactly what it was. (The list is
    process-wide: not for loads in several threads at once.)"""
    if not hasattr(torch.serialization, 'clear_safe_globals'):
        raise RuntimeError(
            f'torch {torch.__version__} cannot extend its weights-only '
            'unpickler; mmconr loads checkpoints weights-only and needs '
            'torch >= 2.6')
    ours = record_globals()
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
    re.compile(r'GLOBAL (\S+) was not an allowed global'),
    re.compile(r'unsupported GLOBAL (\S+) whose module'),
    re.compile(r'reduce for unrecognized function (.+?)(?: which|$)', re.M),
    re.compile(r'(Can only .+?)$', re.M),
)


def refused_global(message: str) -> Optional[str]:
    """What torch's weights-only unpickler refused, from its error message
    (records named by what they stand for), or None."""
    for pattern in _REFUSED:
        match = pattern.search(message)
        if match:
            found = match.group(1).strip().rstrip('.')
            for cls in RECORDS:
                found = found.replace(f"<class '{cls.__module__}."
                                      f"{cls.__qualname__}'>",
                                      cls.stands_for)
            return found
    return None


def unsafe_error(filename: str, message: str) -> Exception:
    """The error for a checkpoint that torch's weights-only unpickler
    refused: :class:`UnsafeCheckpointError` when it names what it refused,
    else a :class:`CheckpointReadError`."""
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


def load_error(filename: str, exc: BaseException) -> Exception:
    """The error to raise for ``exc``, met while loading ``filename``."""
    if isinstance(exc, UnsafeCheckpointError) and \
            str(exc).startswith('it uses'):
        return UnsafeCheckpointError(
            f'refused to load checkpoint {filename}: {exc}. Only load '
            'checkpoints you trust.')
    if isinstance(exc, pickle.UnpicklingError):
        return unsafe_error(filename, str(exc))
    return CheckpointReadError(
        f'cannot read checkpoint {filename} ({type(exc).__name__}: '
        f'{str(exc)[:500]})')


def finish_load(filename: str, loader, *args, **kwargs) -> Any:
    """``loader(*args, **kwargs)`` (a torch.load) inside the allow-list,
    then :func:`~mmconr.utils.checkpoint_records.rebuild`; every failure
    becomes an error naming ``filename``."""
    with checkpoint_safe_globals():
        try:
            loaded = loader(*args, **kwargs)
        except Exception as exc:
            raise load_error(filename, exc) from None
    try:
        return rebuild(loaded)
    except (Exception, RecursionError) as exc:
        raise load_error(filename, exc) from None


def load_checkpoint_file(filename: str,
                         map_location: Any = None) -> Any:
    """``torch.load`` of a local file, weights-only, with the records of
    :mod:`~mmconr.utils.checkpoint_records` (see the module docstring). A
    file that needs any other global, or uses one in another way, raises
    :class:`UnsafeCheckpointError` naming the file and what was refused; a
    file that is no checkpoint raises :class:`CheckpointReadError`."""
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    return finish_load(filename, torch.load, filename,
                       map_location=map_location, weights_only=True)


def weights_only_is_forced_off() -> bool:
    """Whether ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` makes torch.load's
    default a full (unsafe) unpickle."""
    return os.getenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0').lower() in (
        '1', 'y', 'yes', 'true')
