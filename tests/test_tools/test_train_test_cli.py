"""tools/train.py and tools/test.py print an error as one line naming the
problem and return 1; --debug lets the traceback through."""
import os.path as osp

import pytest

from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = 'configs/demo/byol_conr_digits.py'


def tool(name):
    return load_tool(name)


@pytest.mark.parametrize('name, argv, message', [
    ('train', ['nowhere.py'], 'config file not found: nowhere.py'),
    ('test', [DEMO, 'nowhere.pth'], 'checkpoint not found: nowhere.pth'),
    ('test', ['nowhere.py', __file__], 'config file not found: nowhere.py'),
])
def test_errors_are_one_line(name, argv, message, capsys, tmp_path):
    argv = argv + ['--work-dir', str(tmp_path / 'w')]
    assert tool(name).main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f'{name}: error: {message}'
    assert not any('Traceback' in line for line in err)
    with pytest.raises(FileNotFoundError, match=message):
        tool(name).main(argv + ['--debug'])


def test_a_bad_batch_override_is_named(capsys, tmp_path):
    argv = [DEMO, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
            'train_dataloader.batch_size=7']
    assert tool('train').main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith('train: error: ') and 'batch' in err
    assert not (tmp_path / 'w').exists() or not any(
        (tmp_path / 'w').rglob('*.pth'))
