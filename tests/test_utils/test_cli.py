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


@pytest.mark.parametrize('exc, line', [
    (KeyError('no key num_clusters'), 'tool: error: no key num_clusters'),
    (FileNotFoundError('config file not found: x.py'),
     'tool: error: config file not found: x.py'),
    (AssertionError(), 'tool: error: AssertionError'),
    (AttributeError("'NoneType' object has no attribute 'shape'"),
     "tool: error: AttributeError: 'NoneType' object has no attribute "
     "'shape'"),
    (ValueError('first line\nsecond line'),
     'tool: error: first line second line'),
])
def test_the_line_names_the_problem(exc, line, capsys):
    def fail():
        raise exc

    assert run_cli('tool', fail) == 1
    assert capsys.readouterr().err == line + '\n'
