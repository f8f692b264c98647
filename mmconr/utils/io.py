"""Files written whole or not at all."""
import contextlib
import hashlib
import os
import os.path as osp
import tempfile


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'w', **open_kwargs):
    """Open a hidden temporary file next to ``path`` (a dot, the name of
    ``path``, a random part from :func:`tempfile.mkstemp`, ``.part``) for
    writing; when the block ends without an error the file is synced and
    renamed over ``path`` (``os.replace`` is atomic), otherwise it is
    removed and ``path`` is left as it was. A process killed meanwhile
    leaves at most the temporary file, never a half-written ``path``."""
    if not any(c in mode for c in 'wx'):
        raise ValueError(f'atomic_open writes; got mode {mode!r}')
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.part', dir=folder)
    try:
        with os.fdopen(fd, mode.replace('x', 'w'), **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """The hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()
