import pytest

from mmconr.utils.cli import run_cli


def test_errors_print_one_line_and_debug_raises(capsys):
    def fail():
        raise ValueError('k2=12 must not exceed k1=10')

    assert run_cli('tool', fail) == 1
    assert capsys.readouterr().err == 'tool: error: k2=12 must not exceed ' \
        'k1=10\n'
    with pytest.raises(ValueError, match='k2=12'):
        run_cli('tool', fail, debug=True)
    assert run_cli('tool', lambda: None) == 0
