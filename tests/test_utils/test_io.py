"""atomic_open writes a file whole or leaves the old one."""
import os

import pytest

from mmconr.utils.io import atomic_open


def test_the_file_appears_whole_or_not_at_all(tmp_path):
    path = tmp_path / 'sub' / 'out.csv'
    with atomic_open(str(path), 'w', newline='') as f:
        f.write('a,b\n')
        assert not path.exists()  # nothing there until the block ends
    assert path.read_text() == 'a,b\n'
    with pytest.raises(RuntimeError):
        with atomic_open(str(path)) as f:
            f.write('half')
            raise RuntimeError('stop')
    assert path.read_text() == 'a,b\n'  # the old file is untouched
    assert os.listdir(path.parent) == ['out.csv']  # no temporary left
    with pytest.raises(ValueError, match='writes'):
        with atomic_open(str(path), 'r'):
            pass
