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
import math
import pickle
import reprlib
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
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
            a.stands_for if _is_record_class(a) else _short(a)
            for a in self.args[:4])
        return f'{self.stands_for}({args})'


def _record_class(name: str, stands_for: str) -> type:
    """A :class:`Record` subclass standing for the global ``stands_for``
    (no instance attributes beyond ``args`` and ``state``)."""
    return type(name, (Record, ), dict(__slots__=(), stands_for=stands_for))


ReconstructRecord = _record_class('ReconstructRecord',
                                  'numpy._core.multiarray._reconstruct')
NdarrayRecord = _record_class('NdarrayRecord', 'numpy.ndarray')
DTypeRecord = _record_class('DTypeRecord', 'numpy.dtype')
ScalarRecord = _record_class('ScalarRecord', 'numpy._core.multiarray.scalar')
HistoryBufferRecord = _record_class(
    'HistoryBufferRecord', 'mmengine.logging.history_buffer.HistoryBuffer')
GetattrRecord = _record_class('GetattrRecord', 'builtins.getattr')
# pickle protocol 2 writes the empty data of an empty array as bytes()
BytesRecord = _record_class('BytesRecord', 'builtins.bytes')

RECORDS = (ReconstructRecord, NdarrayRecord, DTypeRecord, ScalarRecord,
           HistoryBufferRecord, GetattrRecord, BytesRecord)


def record_globals() -> list:
    """``(stand-in, name)`` pairs for torch's weights-only allow-list; numpy
    1.x files name the numpy functions under ``numpy.core``, protocol 2
    names bytes ``__builtin__.bytes``."""
    pairs = [(cls, cls.stands_for) for cls in RECORDS]
    for cls in (ReconstructRecord, ScalarRecord):
        pairs.append((cls, cls.stands_for.replace('numpy._core',
                                                  'numpy.core')))
    pairs.append((BytesRecord, '__builtin__.bytes'))
    return pairs


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 60


def _short(obj: Any) -> str:
    """A bounded repr (a refused file's data may be huge or deep)."""
    return _REPR.repr(obj)


def _is_record_class(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, Record)


def refuse(what: str) -> UnsafeCheckpointError:
    return UnsafeCheckpointError(
        f'it uses {what}, which MMEngine and numpy never write')


def _describe(obj: Any) -> str:
    if isinstance(obj, type) and issubclass(obj, Record):
        return obj.stands_for
    if isinstance(obj, Record):
        return repr(obj)
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
        raise refuse(f'numpy.dtype({code!r}) with the state {_short(state)}')
    if state[1] in '<>' and dtype.byteorder != '|':
        dtype = dtype.newbyteorder(state[1])
    return dtype


def rebuild_array(record: ReconstructRecord) -> np.ndarray:
    args, state = record.args, record.state
    if args != (NdarrayRecord, (0, ), b'b') or not isinstance(state, tuple) \
            or len(state) != 5 or state[0] != 1:
        raise refuse(f'an array as {_describe(record)} with the state '
                     f'{_short(state)}')
    _, shape, dtype_record, fortran, data = state
    dtype = rebuild_dtype(dtype_record)
    if type(data) is BytesRecord and data.args == () and data.state is None:
        data = b''
    if not (isinstance(shape, tuple) and len(shape) <= 32
            and all(_is_int(n) and n >= 0 for n in shape)
            and isinstance(fortran, bool) and isinstance(data, bytes)):
        raise refuse(f'an array of shape {_short(shape)} from '
                     f'{type(data).__name__}')
    count = math.prod(shape)  # Python ints: no overflow
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
        raise refuse(f'a numpy {dtype} scalar from {_short(data)}')
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def rebuild_history_buffer(record: HistoryBufferRecord) -> HistoryBuffer:
    state = record.state
    keys = HISTORY_BUFFER_FIELDS + ('statistics_methods', )
    if record.args or type(state) is not dict or \
            not set(state) <= set(keys) or not all(
                isinstance(k, str) for k in state):
        shown = sorted(state) if isinstance(state, dict) else state
        raise refuse(f'HistoryBuffer{_short(record.args)} with the state '
                     f'{_short(shown)}')
    methods = state.get('statistics_methods', {})
    if not isinstance(methods, dict):
        raise refuse(f'HistoryBuffer statistics {_short(methods)}')
    for name, method in methods.items():
        if not (name in HISTORY_BUFFER_METHODS
                and type(method) is GetattrRecord
                and method.args == (HistoryBufferRecord, name)):
            raise refuse(f'HistoryBuffer statistics method {_short(name)} = '
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


def _check_attributes(value: Any) -> None:
    """Loaded objects carry no attributes of the file's choosing (numpy
    reads ``__array_interface__`` from an instance, a state dict could
    shadow ``items``), except torch's ``_metadata`` of a state dict; tensors
    carry no gradient or hooks."""
    if isinstance(value, torch.Tensor):
        if value.grad is not None or value._backward_hooks:
            raise refuse('a tensor with a gradient or hooks')
    attributes = getattr(value, '__dict__', None)
    if not attributes:
        return
    if type(value) is OrderedDict and set(attributes) == {'_metadata'} \
            and _plain_metadata(attributes['_metadata']):
        return
    raise refuse(f'a {type(value).__qualname__} with the attributes '
                 f'{_short(sorted(map(str, attributes)))}')


def _plain_metadata(metadata: Any) -> bool:
    """torch's state-dict ``_metadata``: {prefix: {key: plain value}}."""
    plain = (str, int, float, bool, type(None))
    return isinstance(metadata, dict) and all(
        isinstance(k, str) and type(v) is dict and all(
            isinstance(a, str) and isinstance(b, plain)
            for a, b in v.items()) for k, v in metadata.items())


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
        if _is_record_class(value):
            raise refuse(value.stands_for)
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
        if not isinstance(value, type):
            _check_attributes(value)
        if isinstance(value, dict):
            for k in list(value):
                rebuilt = visit(k)
                if rebuilt is not k and not (
                        type(rebuilt) is type(k) and rebuilt == k):
                    raise refuse(f'{_describe(k)} in a dict key')
                value[k] = visit(value[k])
        elif isinstance(value, list):
            value[:] = [visit(v) for v in value]
        return value

    return visit(obj)


_IN_PROGRESS = object()
