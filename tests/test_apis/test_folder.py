import pytest

from mmconr.apis.folder import check_writable


def test_an_output_folder_that_cannot_be_written_is_refused(tmp_path):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    with pytest.raises(OSError, match='nothing was trained'):
        check_writable(str(blocker / 'out'))
    check_writable(str(tmp_path / 'out'))
    assert list((tmp_path / 'out').iterdir()) == []  # no probe left
