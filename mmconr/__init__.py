"""mmconr: CoNR deep clustering on MMEngine / MMPretrain."""
from .version import __version__

# mmcv (full) and mmcv-lite both import as ``mmcv``; pip cannot require "one
# of the two", so install_requires has neither and this checks at import.
MMCV_RANGE = ('2.0.0', '2.4.0')  # [min, max), as mmpretrain 1.x
_MMCV_INSTALL = ('pip install "mmcv-lite>=2.0.0,<2.4.0" (no compiled ops; '
                 'enough for mmconr) or mim install "mmcv>=2.0.0,<2.4.0"')


def check_mmcv() -> None:
    """Raise an ImportError saying how to install mmcv or mmcv-lite when
    neither is importable or its version is outside :data:`MMCV_RANGE`."""
    try:
        import mmcv
    except ImportError as exc:
        raise ImportError(
            'mmconr needs mmcv or mmcv-lite >= 2.0.0, < 2.4.0 and neither is '
            f'installed ({exc}): {_MMCV_INSTALL}') from exc
    from mmengine.utils import digit_version
    version = getattr(mmcv, '__version__', '')
    low, high = (digit_version(v) for v in MMCV_RANGE)
    if not low <= digit_version(version) < high:
        raise ImportError(
            f'mmcv {version} is installed, but mmconr needs mmcv or '
            f'mmcv-lite >= 2.0.0, < 2.4.0: {_MMCV_INSTALL}')


check_mmcv()

__all__ = ['__version__', 'check_mmcv']
