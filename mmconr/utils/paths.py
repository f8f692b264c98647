"""Where the files shipped with mmconr (``configs/``, ``tools/``,
``model-index.yml``) are, in an installed package and in a clone.

An installed mmconr carries them in ``mmconr/.mim/`` (copied by setup.py,
the place ``mim`` looks); an editable install links ``mmconr/.mim/<name>``
to the clone's files; a plain clone has them at the repository root.
"""
import os.path as osp
from typing import Optional, Tuple

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
# the parent of the package: the repository root in a clone (it holds
# setup.py), site-packages (or another install target) otherwise
REPO_ROOT = osp.dirname(PACKAGE_DIR)


def _normalise(rel: str) -> str:
    if osp.isabs(rel):
        raise ValueError(f'expected a path relative to the repository root '
                         f'(e.g. configs/demo/byol_conr_digits.py), got '
                         f'{rel!r}')
    rel = osp.normpath(rel)
    if rel == osp.curdir or rel.split(osp.sep)[0] == osp.pardir:
        raise ValueError(f'{rel!r} is not a path inside the repository')
    return rel


def shipped_candidates(rel: str) -> Tuple[str, str]:
    """The two places ``rel`` (e.g. ``configs/demo/byol_conr_digits.py``)
    can be: ``mmconr/.mim/<rel>`` and ``<repository root>/<rel>``."""
    rel = _normalise(rel)
    return osp.join(MIM_DIR, rel), osp.join(REPO_ROOT, rel)


def find_shipped(rel: str) -> Optional[str]:
    """Like :func:`shipped_path`, but ``None`` where ``rel`` is in neither
    place."""
    in_mim, in_repo = shipped_candidates(rel)
    if osp.exists(in_mim):
        return in_mim
    # the package's parent counts as a repository only in a source tree,
    # not site-packages (whose configs/ could belong to anything)
    if osp.isfile(osp.join(REPO_ROOT, 'setup.py')) and osp.exists(in_repo):
        return in_repo
    return None


def shipped_path(rel: str) -> str:
    """The path of a file or folder shipped with mmconr, given relative to
    the repository root (``configs/...``, ``tools/...``,
    ``model-index.yml``): ``mmconr/.mim/<rel>`` where it exists (installed
    package, editable install), else the repository's ``<rel>`` (clone).

    Raises:
        FileNotFoundError: naming both places when it is in neither.
    """
    found = find_shipped(rel)
    if found is None:
        in_mim, in_repo = shipped_candidates(rel)
        raise FileNotFoundError(
            f'{rel} not found with this mmconr: looked in {in_mim} '
            f'(installed package) and {in_repo} (repository clone); '
            'reinstall mmconr (pip install .) or run from a clone')
    return found


__all__ = ['MIM_DIR', 'REPO_ROOT', 'find_shipped', 'shipped_candidates',
           'shipped_path']
