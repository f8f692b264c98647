"""Inert stand-ins for the few non-torch globals of an MMEngine checkpoint,
and their checked rebuilding.

A checkpoint written by MMEngine (and so by mmconr) needs six globals besides
torch's own: ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``,
``numpy.dtype``, ``numpy._core.multiarray.scalar`` (arrays and scalars in
the logged history), ``mmengine.logging.history_buffer.HistoryBuffer`` and
``builtins.getattr`` (MMEngine pickles a buffer's statistics as
``getattr(HistoryBuffer, 'min')``). While torch's weights-only unpickler
reads a file, each of these names resolves to a :class:`Record` that only
stores what the file passes (the call's arguments, the BUILD state): no
code of numpy or MMEngine runs on the file's data while it is unpickled.
:func:`rebuild` then makes real objects from the records, accepting exactly
what numpy and MMEngine write:

* ``_reconstruct(ndarray, (0,), b'b')`` + state ``(1, shape, dtype,
  fortran, bytes)``: an array of a plain dtype, copied from the bytes;
* ``dtype(code, False, True)`` + state ``(3, byteorder, None, None, None,
  ...)``: ``numpy.dtype(code)`` of a bool / number / bytes / str kind;
* ``scalar(dtype, bytes)``: one number of that dtype;
* ``HistoryBuffer()`` + state ``{'_log_history', '_count_history',
  'max_length', 'statistics_methods': {name: getattr(HistoryBuffer,
  name)}}`` for MMEngine's four default statistics: a HistoryBuffer.

Anything else — another call, another ``getattr``, a record where none
belongs — raises :class:`UnsafeCheckpointError`.
"""
import pickle
from typing import Any

import numpy as np
from mmengine.logging import HistoryBuffer

HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')
HISTORY_BUFFER_FIELDS = ('_log_history', '_count_history', 'max_length')
#: dtype kinds an array of a checkpoint may have: bool, integers, floats,
#: complex, bytes, str (no objects, no structured / void types)
SAFE_DTYPE_KINDS = 'biufcSU'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a Python global that mmconr does not allow, or
    uses an allowed one in a way MMEngine and numpy never write."""


class Record:
    """What a file passed to a stand-in: ``args`` of the call (or of
    ``cls.__new__``) and ``state`` of a BUILD. Nothing else happens."""
    __slots__ = ('args', 'state')
    stands_for = '?'

    def __new__(cls, *args):
        record = object.__new__(cls)
        record.args, record.state = args, None
        return record

    def __init__(self, *args):
        pass

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        args = ', '.join(
            a.stands_for if isinstance(a, type) and issubclass(a, Record)
            else repr(a)[:100] for a in self.args)
        return f'{self.stands_for}({args})'


class ReconstructRecord(Record):
    stands_for = 'numpy._core.multiarray._reconstruct'


class NdarrayRecord(Record):
    stands_for = 'numpy.ndarray'


class DTypeRecord(Record):
    stands_for = 'numpy.dtype'


class ScalarRecord(Record):
    stands_for = 'numpy._core.multiarray.scalar'


class HistoryBufferRecord(Record):
    stands_for = 'mmengine.logging.history_buffer.HistoryBuffer'


class GetattrRecord(Record):
    stands_for = 'builtins.getattr'


RECORDS = (ReconstructRecord, NdarrayRecord, DTypeRecord, ScalarRecord,
           HistoryBufferRecord, GetattrRecord)


def record_globals() -> list:
    """``(stand-in, name)`` pairs for torch's weights-only allow-list; numpy
    1.x files name the numpy functions under ``numpy.core``."""
    pairs = [(cls, cls.stands_for) for cls in RECORDS]
    for cls in (ReconstructRecord, ScalarRecord):
        pairs.append((cls, cls.stands_for.replace('numpy._core',
                                                  'numpy.core')))
    return pairs


def refuse(what: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'it uses {what}, which MMEngine and numpy never write')


def _describe(obj: Any) -> str:
    if isinstance(obj, type) and issubclass(obj, Record):
        return obj.stands_for
    if isinstance(obj, Record):
        return repr(obj)[:200]
    if isinstance(obj, type) or callable(obj):
        module = getattr(obj, '__module__', None) or '?'
        name = getattr(obj, '__qualname__', None) or type(obj).__qualname__
        return f'{module}.{name}'
    return f'a {type(obj).__module__}.{type(obj).__qualname__}'


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rebuild_dtype(record: Any) -> np.dtype:
    if type(record) is not DTypeRecord or len(record.args) != 3 or \
            not isinstance(record.args[0], str):
        raise refuse(f'numpy.dtype as {_describe(record)}')
    code = record.args[0]
    try:
        dtype = np.dtype(code)
    except TypeError:
        raise refuse(f'numpy.dtype({code!r})') from None
    if dtype.kind not in SAFE_DTYPE_KINDS or dtype.fields is not None \
            or dtype.subdtype is not None:
        raise refuse(f'numpy.dtype({code!r})')
    state = record.state
    if state is None:
        return dtype
    if not (isinstance(state, tuple) and len(state) in (8, 9)
            and state[0] in (3, 4) and state[1] in ('<', '>', '|', '=')
            and state[2:5] == (None, None, None)
            and state[5] in (-1, dtype.itemsize)):
        raise refuse(f'numpy.dtype({code!r}) with the state {state!r:.200}')
    if state[1] in '<>' and dtype.byteorder != '|':
        dtype = dtype.newbyteorder(state[1])
    return dtype


def rebuild_array(record: ReconstructRecord) -> np.ndarray:
    args, state = record.args, record.state
    if args != (NdarrayRecord, (0, ), b'b') or not isinstance(state, tuple) \
            or len(state) != 5 or state[0] != 1:
        raise refuse(f'an array as {_describe(record)} with the state '
                     f'{state!r:.200}')
    _, shape, dtype_record, fortran, data = state
    dtype = rebuild_dtype(dtype_record)
    if not (isinstance(shape, tuple) and len(shape) <= 32
            and all(_is_int(n) and n >= 0 for n in shape)
            and isinstance(fortran, bool) and isinstance(data, bytes)):
        raise refuse(f'an array of shape {shape!r:.100} from '
                     f'{type(data).__name__}')
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != count * dtype.itemsize:
        raise refuse(f'an array of shape {shape} and dtype {dtype} from '
                     f'{len(data)} bytes')
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape, order='F' if fortran else 'C').copy()


def rebuild_scalar(record: ScalarRecord) -> Any:
    if len(record.args) != 2 or record.state is not None:
        raise refuse(f'numpy scalar {_describe(record)}')
    dtype = rebuild_dtype(record.args[0])
    data = record.args[1]
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise refuse(f'a numpy {dtype} scalar from {data!r:.100}')
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def rebuild_history_buffer(record: HistoryBufferRecord) -> HistoryBuffer:
    state = record.state
    keys = HISTORY_BUFFER_FIELDS + ('statistics_methods', )
    if record.args or not isinstance(state, dict) or \
            not set(state) <= set(keys) or not all(
                isinstance(k, str) for k in state):
        shown = sorted(state) if isinstance(state, dict) else state
        raise refuse(f'HistoryBuffer{record.args!r:.100} with the state '
                     f'{shown!r:.200}')
    methods = state.get('statistics_methods', {})
    if not isinstance(methods, dict):
        raise refuse(f'HistoryBuffer statistics {methods!r:.100}')
    for name, method in methods.items():
        if not (name in HISTORY_BUFFER_METHODS
                and type(method) is GetattrRecord
                and method.args == (HistoryBufferRecord, name)):
            raise refuse(f'HistoryBuffer statistics method {name!r:.50} = '
                         f'{_describe(method)}')
    arrays = []
    for name in HISTORY_BUFFER_FIELDS[:2]:
        value = state.get(name)
        array = rebuild_array(value) if type(value) is \
            ReconstructRecord else None
        if array is None or array.ndim != 1 or array.dtype.kind not in 'biuf':
            raise refuse(f'HistoryBuffer.{name} = {_describe(value)}')
        arrays.append(array)
    max_length = state.get('max_length', 1000000)
    if not _is_int(max_length) or max_length < 1 or \
            len(arrays[0]) != len(arrays[1]):
        raise refuse(f'HistoryBuffer of {len(arrays[0])} / '
                     f'{len(arrays[1])} values, max_length {max_length!r}')
    return HistoryBuffer(arrays[0], arrays[1], max_length)


_REBUILD = {
    ReconstructRecord: rebuild_array,
    ScalarRecord: rebuild_scalar,
    HistoryBufferRecord: rebuild_history_buffer,
}


def rebuild(obj: Any) -> Any:
    """``obj`` (what torch.load returned) with every record made the object
    it stands for, checked; dicts, lists and attribute dicts are updated in
    place. Raises :class:`UnsafeCheckpointError` for a record that is no
    array, scalar or HistoryBuffer of the expected form (a dtype or getattr
    outside one, a direct ndarray call, ...)."""
    done = {}

    def visit(value):
        key = id(value)
        if key in done:
            if done[key] is _IN_PROGRESS:
                raise refuse('a cycle through a tuple or set')
            return done[key]
        if isinstance(value, Record):
            fn = _REBUILD.get(type(value))
            if fn is None:
                raise refuse(_describe(value))
            done[key] = fn(value)
            return done[key]
        if isinstance(value, (tuple, set, frozenset)):
            done[key] = _IN_PROGRESS
            done[key] = type(value)(visit(v) for v in value) \
                if type(value) in (tuple, set, frozenset) else value
            return done[key]
        done[key] = value
        if isinstance(value, dict):
            for k in list(value):
                if isinstance(k, Record):
                    raise refuse(f'{_describe(k)} as a dict key')
                value[k] = visit(value[k])
        elif isinstance(value, list):
            value[:] = [visit(v) for v in value]
        attributes = getattr(value, '__dict__', None) \
            if not isinstance(value, type) else None
        if isinstance(attributes, dict):
            for k in list(attributes):
                attributes[k] = visit(attributes[k])
        return value

    return visit(obj)


_IN_PROGRESS = object()
