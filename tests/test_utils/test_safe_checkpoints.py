"""Loading a checkpoint never runs code or changes the program.

Crafted files of three kinds — a ``getattr`` that reaches an allowed
function's ``__globals__`` and rebinds torch's weights-only default, a
``__reduce__`` payload (``os.system``), ``getattr`` on another class or
attribute — are refused through the library loaders here and through every
command-line tool in ``test_every_tool_refuses_a_crafted_checkpoint``; the
module globals and a marker file show that nothing ran. Checkpoints written
by plain MMEngine (with its ``getattr(HistoryBuffer, 'min')`` records) still
load and resume.
"""
import collections
import os
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.logging import HistoryBuffer
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from mmconr.utils import (CheckpointReadError, UnsafeCheckpointError,
                          checkpoint_safe_globals, load_checkpoint_file)
from tests.tool_loader import load_tool

# numpy's array-rebuilding function, as its pickles name it
_reconstruct = np.zeros(1).__reduce__()[0]
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')


class Reduce:
    """Pickles as ``func(*args)``, then ``result.__setstate__(state)``
    (BUILD) and ``result[key] = value`` for ``items`` (SETITEMS), as a
    crafted file would."""

    def __init__(self, func, args, items=None, state=None):
        self.func, self.args = func, args
        self.items, self.state = items, state

    def __reduce__(self):
        items = iter(self.items) if self.items else None
        return self.func, self.args, self.state, None, items


def rewrite_globals_payload():
    """getattr(torch.serialization._get_layout, '__globals__') is the
    namespace of torch.serialization (``_get_layout`` is on torch's own
    weights-only list); setting ``_default_to_weights_only`` to
    ``collections.Counter`` there makes every later default torch.load a
    full unpickle (``Counter(None)`` is falsy)."""
    namespace = Reduce(getattr, (torch.serialization._get_layout,
                                 '__globals__'),
                       items=[('_default_to_weights_only',
                               collections.Counter)])
    return {'state_dict': {'w': torch.ones(2)}, 'meta': namespace}


def system_payload(marker):
    return {'state_dict': {'w': torch.ones(2)},
            'meta': Reduce(os.system, (f'touch {marker}', ))}


def object_array_payload():
    """``ndarray((1,), 'O', buffer)``: an object array whose element is a
    pointer read from the file (here NULL; any address would be used)."""
    return {'meta': Reduce(np.ndarray, ((1, ), 'O', b'\x00' * 8))}


def object_dtype_payload():
    """A float64 dtype copy whose state gives it an object field: arrays
    of it would read object pointers from the file's bytes."""
    fields = {'a': (np.dtype('O'), 0)}
    dtype = Reduce(np.dtype, ('f8', False, True),
                   state=(3, '|', None, ('a', ), fields, 8, 1, 0))
    return {'meta': dtype}


def object_dtype_array_payload():
    """The same dtype inside an array as numpy pickles arrays: its bytes
    would be read as object pointers."""
    fields = {'a': (np.dtype('O'), 0)}
    dtype = Reduce(np.dtype, ('f8', False, True),
                   state=(3, '|', None, ('a', ), fields, 8, 1, 0))
    array = Reduce(_reconstruct, (np.ndarray, (0, ), b'b'),
                   state=(1, (1, ), dtype, False, b'x' * 8))
    return {'meta': array}


def statistics_payload():
    """A HistoryBuffer whose state rebinds the class-wide 'mean' to max
    (MMEngine's __setstate__ updates the shared table)."""
    state = {'statistics_methods': {
        'mean': Reduce(getattr, (HistoryBuffer, 'max'))}}
    return {'message_hub': Reduce(HistoryBuffer, (), state=state)}


CRAFTED = {
    'object_array': (object_array_payload, "numpy.ndarray((1,), 'O'"),
    'object_dtype': (object_dtype_payload,
                     "numpy.dtype('f8', False, True)"),
    'object_dtype_in_array': (object_dtype_array_payload,
                              "numpy.dtype('f8') with the state"),
    'instance_attributes': (
        lambda: {'meta': Reduce(collections.OrderedDict, (), state={
            '__array_interface__': {'shape': (1, ), 'typestr': '|O',
                                    'data': b'A' * 8, 'version': 3}})},
        "OrderedDict with the attributes ['__array_interface__']"),
    'shadowed_items': (
        lambda: {'state_dict': Reduce(collections.OrderedDict, (), state={
            'items': collections.OrderedDict})},
        "OrderedDict with the attributes ['items']"),
    'record_class_value': (lambda: {'meta': {'c': np.ndarray}},
                           'it uses numpy.ndarray,'),
    'history_buffer_call': (
        lambda: {'message_hub': Reduce(HistoryBuffer, ([1.0], [1], 10))},
        'HistoryBuffer([1.0], [1], 10)'),
    'history_buffer_methods': (statistics_payload,
                               "statistics method 'mean'"),
    'globals_rewrite': (rewrite_globals_payload, 'builtins.getattr'),
    'reduce_system': (None, 'system'),
    'getattr_other_class': (
        lambda: {'meta': Reduce(getattr, (ConfigDict, 'update'))},
        'mmengine.config.config.ConfigDict'),
    'getattr_other_name': (
        lambda: {'meta': Reduce(getattr, (HistoryBuffer, '__init__'))},
        "HistoryBuffer, '__init__')"),
}


@pytest.fixture
def crafted(tmp_path):
    """{kind: path} of crafted checkpoints, and the marker the
    ``os.system`` payload would create."""
    marker = tmp_path / 'PWNED'
    paths = {}
    for kind, (build, _) in CRAFTED.items():
        obj = system_payload(marker) if build is None else build()
        paths[kind] = str(tmp_path / f'{kind}.pth')
        torch.save(obj, paths[kind])
    return paths, marker


def snapshot():
    HistoryBuffer()  # the class-wide default methods, set on first use
    return (torch.serialization._default_to_weights_only,
            dict(torch.serialization.__dict__),
            set(torch.serialization.get_safe_globals()),
            dict(HistoryBuffer._statistics_methods),
            np.dtype('f8').fields)


def test_the_globals_payload_is_a_live_attack(crafted):
    """Control: with ``getattr`` allowed (mmconr's former loader) the file
    does rewrite torch.serialization; shown in a separate process."""
    paths, _ = crafted
    code = textwrap.dedent(f'''
        import torch
        before = torch.serialization._default_to_weights_only
        with torch.serialization.safe_globals([getattr]):
            torch.load({paths['globals_rewrite']!r}, weights_only=True)
        print('rewritten:',
              torch.serialization._default_to_weights_only is not before)
    ''')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=120)
    assert 'rewritten: True' in out.stdout, out.stderr[-2000:]


@pytest.mark.parametrize('kind', sorted(CRAFTED))
@pytest.mark.parametrize('loader', ['load_checkpoint_file',
                                    'CheckpointLoader', '_load_checkpoint',
                                    'load_checkpoint'])
def test_crafted_checkpoint_is_refused_and_changes_nothing(
        crafted, kind, loader):
    paths, marker = crafted
    path = paths[kind]
    before = snapshot()
    with pytest.raises(UnsafeCheckpointError) as info:
        if loader == 'load_checkpoint_file':
            load_checkpoint_file(path)
        elif loader == 'CheckpointLoader':
            CheckpointLoader.load_checkpoint(path, map_location='cpu')
        elif loader == '_load_checkpoint':
            _load_checkpoint(path, map_location='cpu')
        else:
            load_checkpoint(torch.nn.Linear(2, 2), path, map_location='cpu')
    message = str(info.value)
    assert path in message and CRAFTED[kind][1] in message, message
    after = snapshot()
    assert after[0] is before[0]
    assert after[1].keys() == before[1].keys() and all(
        after[1][k] is before[1][k] for k in before[1])
    assert after[2] == before[2]  # torch's process-wide allow-list
    assert after[3] == before[3] and after[4] is None
    assert not marker.exists()
    # torch's default load is still weights-only: the payload stays inert
    with pytest.raises(Exception):
        torch.load(paths['reduce_system'])
    assert not marker.exists()


def test_a_users_own_allowance_survives_loading(tmp_path):
    """The allow-list is added for the load only, and what a user had
    allowed before stays allowed after it."""
    path = str(tmp_path / 'c.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}}, path)
    before = torch.serialization.get_safe_globals()
    assert HistoryBuffer not in before
    torch.serialization.add_safe_globals([HistoryBuffer])
    try:
        load_checkpoint_file(path)
        assert set(torch.serialization.get_safe_globals()) == \
            set(before) | {HistoryBuffer}
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)
    load_checkpoint_file(path)
    assert set(torch.serialization.get_safe_globals()) == set(before)


def test_a_users_own_getattr_does_not_reopen_the_attack(crafted):
    """A user who allowed the real getattr (a common workaround for MMEngine
    under torch >= 2.6) still gets mmconr's restricted one during its loads
    (without this, which of the two wins depends on the hash seed), and has
    theirs back afterwards."""
    paths, _ = crafted
    torch.serialization.add_safe_globals([getattr])
    try:
        before = snapshot()
        for kind in ('globals_rewrite', 'getattr_other_class'):
            with pytest.raises(UnsafeCheckpointError, match='getattr'):
                load_checkpoint_file(paths[kind])
        with checkpoint_safe_globals():  # the real one is out meanwhile
            assert getattr not in torch.serialization.get_safe_globals()
        assert snapshot()[0] is before[0]
        assert getattr in torch.serialization.get_safe_globals()
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(
            [g for g in before[2] if g is not getattr])


def test_torch_gadgets_get_no_real_callable(tmp_path):
    """torch's own _rebuild_from_type_v2 calls whatever it is given and
    setattr()s the result; what mmconr's getattr hands out is an inert
    record, so a file cannot reach HistoryBuffer's methods (or set
    attributes on a shared class) through it."""
    target = collections.OrderedDict()
    gadget = Reduce(torch._tensor._rebuild_from_type_v2,
                    (Reduce(getattr, (HistoryBuffer, 'current')),
                     collections.OrderedDict, (target, ),
                     {'mmconr_pwned': 1}))
    path = str(tmp_path / 'gadget.pth')
    torch.save({'meta': gadget}, path)
    with pytest.raises((UnsafeCheckpointError, CheckpointReadError),
                       match='gadget.pth'):
        load_checkpoint_file(path)
    for cls in (torch.Tensor, collections.OrderedDict, HistoryBuffer,
                ConfigDict):
        assert not hasattr(cls, 'mmconr_pwned')


def test_not_a_checkpoint_is_a_read_error(tmp_path):
    path = tmp_path / 'notes.pth'
    path.write_text('not a checkpoint')
    with pytest.raises(CheckpointReadError, match='notes.pth'):
        load_checkpoint_file(str(path))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_refusal_when_torch_default_is_forced_unsafe(crafted, monkeypatch):
    """Remote schemes use MMEngine's loaders and torch's default; with
    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD set they are refused outright (the
    local loader is explicitly weights-only either way)."""
    paths, marker = crafted
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(RuntimeError, match='TORCH_FORCE_NO_WEIGHTS_ONLY'):
        CheckpointLoader.load_checkpoint('s3://bucket/ckpt.pth')
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(paths['reduce_system'])
    assert not marker.exists()


PLAIN_MMENGINE = r'''
# A checkpoint of plain MMEngine: no mmconr import, no patches.
import sys
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import save_checkpoint
hub = MessageHub.get_instance('plain')
for v in (3.0, 1.0, 2.0):
    hub.update_scalar('train/loss', v)
hub.update_info('iter', 7)
save_checkpoint({'state_dict': {'w': torch.arange(4.)},
                 'message_hub': hub.state_dict(),
                 'meta': {'epoch': 2, 'seed': 5}}, sys.argv[1])
assert 'mmconr' not in sys.modules
'''


def test_plain_mmengine_checkpoint_loads(tmp_path):
    path = str(tmp_path / 'plain.pth')
    subprocess.run([sys.executable, '-c', PLAIN_MMENGINE, path], check=True,
                   capture_output=True, timeout=120)
    # it does hold MMEngine's getattr records
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert 'builtins.getattr' in names
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(4.))
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.min() == 1.0 and buffer.max() == 3.0
    assert buffer.current() == 2.0 and buffer.mean() == pytest.approx(2.0)
    assert type(buffer) is HistoryBuffer
    assert buffer.statistics('max') == 3.0
    assert type(buffer._log_history) is np.ndarray
    assert ckpt['message_hub']['runtime_info']['iter'] == 7


TOY_RUN = r"""
# A toy MMEngine run; argv: work_dir max_epochs resume_from|'' use_mmconr
import sys
import torch
from mmengine.model import BaseModel
from mmengine.registry import MODELS
from mmengine.runner import Runner

work_dir, max_epochs, resume_from, use_mmconr = sys.argv[1:5]
if use_mmconr == '1':
    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=False)


class Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 1)

    def forward(self, x, y, mode='loss'):
        return {'loss': ((self.fc(x).squeeze(1) - y) ** 2).mean()}


class Data(torch.utils.data.Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        x = torch.tensor([i, i % 3, 1.0]) / 10
        return {'x': x, 'y': x.sum()}


runner = Runner(
    model=Toy(), work_dir=work_dir,
    train_dataloader=dict(dataset=Data(), batch_size=4,
                          sampler=dict(type='DefaultSampler', shuffle=False),
                          collate_fn=dict(type='default_collate')),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
    param_scheduler=dict(type='StepLR', step_size=1, gamma=0.5, by_epoch=True),
    train_cfg=dict(by_epoch=True, max_epochs=int(max_epochs)),
    default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
    load_from=resume_from or None, resume=bool(resume_from),
    default_scope='mmengine')
runner.train()
assert ('mmconr' in sys.modules) == (use_mmconr == '1')
"""


def test_plain_mmengine_checkpoint_resumes_exactly(tmp_path):
    """A run of plain MMEngine (no mmconr in the process) for 3 epochs, and
    the same run resumed from its epoch-2 checkpoint in a process with
    mmconr's loader: the same weights, optimizer state and lr."""
    def toy(work_dir, epochs, resume, mmconr):
        proc = subprocess.run(
            [sys.executable, '-c', TOY_RUN, str(work_dir), str(epochs),
             resume, mmconr], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]

    toy(tmp_path / 'plain', 3, '', '0')
    warm = tmp_path / 'plain' / 'epoch_2.pth'
    assert 'builtins.getattr' in \
        torch.serialization.get_unsafe_globals_in_checkpoint(str(warm))
    toy(tmp_path / 'resumed', 3, str(warm), '1')
    # it resumed at epoch 2 (a run from scratch would write epoch_1.pth)
    assert sorted(p.name for p in (tmp_path / 'resumed').glob('*.pth')) == \
        ['epoch_3.pth']
    ref = load_checkpoint_file(str(tmp_path / 'plain' / 'epoch_3.pth'))
    out = load_checkpoint_file(str(tmp_path / 'resumed' / 'epoch_3.pth'))
    assert out['meta']['epoch'] == ref['meta']['epoch'] == 3
    for key, value in ref['state_dict'].items():
        assert torch.equal(out['state_dict'][key], value), key
    ref_opt, out_opt = ref['optimizer'], out['optimizer']
    assert [g['lr'] for g in out_opt['param_groups']] == \
        [g['lr'] for g in ref_opt['param_groups']]
    for key, state in ref_opt['state'].items():
        assert torch.equal(out_opt['state'][key]['momentum_buffer'],
                           state['momentum_buffer'])


def test_mmconr_checkpoint_round_trip(tmp_path):
    """What mmconr's runner writes (tensors, numpy arrays and scalars,
    HistoryBuffer) loads through load_checkpoint_file as plain objects."""
    import numpy as np
    from mmengine.logging import MessageHub
    from mmengine.runner.checkpoint import save_checkpoint
    hub = MessageHub.get_instance('round-trip')
    hub.update_scalar('train/lr', 0.1)
    ckpt = {'state_dict': {'w': torch.ones(2)},
            'message_hub': hub.state_dict(),
            'meta': {'seed': np.int64(3), 'arr': np.arange(6.).reshape(2, 3),
                     'empty': np.array([]), 'state': HistoryBuffer(),
                     'big': np.arange(3, dtype='>i4'), 'text': np.str_('x')}}
    path = str(tmp_path / 'c.pth')
    save_checkpoint(ckpt, path)
    back = load_checkpoint_file(path)
    assert back['meta']['seed'] == 3
    assert type(back['meta']['seed']) is np.int64
    assert np.array_equal(back['meta']['arr'], np.arange(6.).reshape(2, 3))
    assert back['meta']['big'].dtype == np.dtype('>i4')
    assert np.array_equal(back['meta']['big'], np.arange(3))
    assert back['meta']['text'] == 'x'
    assert back['meta']['empty'].shape == (0, )
    assert len(back['meta']['state']._log_history) == 0
    # torch's own state-dict metadata survives
    model = torch.nn.Linear(2, 2)
    torch.save(model.state_dict(), path)
    state = load_checkpoint_file(path)
    assert state._metadata == model.state_dict()._metadata
    assert back['message_hub']['log_scalars']['train/lr'].current() == 0.1


def _tool_commands(path, tmp):
    tools = osp.join(ROOT, 'tools')
    images = tmp / 'images'
    images.mkdir(exist_ok=True)
    from PIL import Image
    for i in range(4):
        Image.new('RGB', (8, 8), (60 * i, 0, 0)).save(images / f'{i}.png')
    return {
        'train --resume': [f'{tools}/train.py', DEMO, '--work-dir',
                           str(tmp / 'w1'), '--resume', path],
        'train load_from': [f'{tools}/train.py', DEMO, '--work-dir',
                            str(tmp / 'w2'), '--cfg-options',
                            f'load_from={path}'],
        'test.py': [f'{tools}/test.py', DEMO, path, '--work-dir',
                    str(tmp / 'w3')],
        'cluster_images --checkpoint': [
            f'{tools}/cluster_images.py', str(images), '--num-clusters', '2',
            '--checkpoint', path, '--out', str(tmp / 'w4')],
        'neighbor_purity': [f'{tools}/analysis_tools/neighbor_purity.py',
                            DEMO, path, '--out', str(tmp / 'p.png')],
        'converter': [f'{tools}/model_converters/connr_to_mmconr.py', path,
                      str(tmp / 'converted.pth')],
    }


def _run_tool(path, argv, capsys):
    """``main(argv)`` of the tool at ``path`` in this process: (exit
    status, what it printed or raised)."""
    relpath = osp.relpath(path, osp.join(ROOT, 'tools'))[:-3]
    module = load_tool(relpath)
    try:
        status = module.main(argv)
        text = ''
    except SystemExit as exc:
        status, text = exc.code, ''
    except Exception as exc:  # tools without run_cli raise
        status, text = 1, f'{type(exc).__name__}: {exc}'
    out = capsys.readouterr()
    return status, out.out + out.err + text


def test_every_tool_refuses_a_crafted_checkpoint(crafted, tmp_path, capsys,
                                                 monkeypatch):
    """Each tool's entry point, in this process: the file is refused, the
    payload never ran and the process (torch.serialization, mmengine's
    HistoryBuffer, numpy) is as it was."""
    paths, marker = crafted
    path = paths['reduce_system']
    monkeypatch.chdir(tmp_path)
    before = snapshot()
    for name, cmd in _tool_commands(path, tmp_path).items():
        status, out = _run_tool(cmd[0], cmd[1:], capsys)
        assert status not in (0, None), (name, out[-3000:])
        assert 'refused to load checkpoint' in out and path in out and \
            'system' in out, (name, out[-3000:])
        assert not marker.exists(), name
        assert snapshot() == before, name
