"""mmcv's ``adjust_hue`` under numpy >= 2 (mmcv / mmcv-lite <= 2.2.0).

mmcv shifts the hue channel with ``np.uint8(hue_factor * 255)``, relying on
numpy < 2 to wrap a negative value into 0..255. numpy 2 raises
``OverflowError`` instead, so every ``ColorJitter(hue=...)`` (the BYOL / ConNR
augmentation) crashes on about half of the images. :func:`patch_adjust_hue`
keeps mmcv's function for non-negative factors and applies the same
modular shift itself for negative ones.

Upstream: not fixed in mmcv 2.2.0, the latest release (the same fix was
made in the fork VBTI-development/onedl-mmcv, pull request 41). The patch
applies only with numpy >= 2 and mmcv <= 2.2.0; a later mmcv is left alone.
"""
import cv2
import numpy as np
from PIL import Image

_PATCHED = False


def _shift_hue(img: np.ndarray, hue_factor: float, backend: str):
    """Rotate the hue of a BGR uint8 image by ``int(hue_factor * 255)``
    steps modulo 256, as mmcv does with numpy < 2."""
    shift = np.uint8(int(hue_factor * 255) % 256)
    if backend == 'pillow':
        pil_image = Image.fromarray(img[..., ::-1], mode='RGB')
        h, s, v = pil_image.convert('HSV').split()
        h = Image.fromarray(np.asarray(h, dtype=np.uint8) + shift, 'L')
        rgb = Image.merge('HSV', (h, s, v)).convert('RGB')
        return np.array(rgb, dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += shift  # uint8 arithmetic wraps around
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


def needs_patch() -> bool:
    import mmcv
    from mmengine.utils import digit_version
    return (digit_version(np.__version__) >= digit_version('2.0.0')
            and digit_version(mmcv.__version__) <= digit_version('2.2.0'))


def patch_adjust_hue() -> bool:
    """Idempotent; returns whether the patch is in place."""
    global _PATCHED
    if _PATCHED:
        return True
    if not needs_patch():
        return False
    _PATCHED = True
    import mmcv
    import mmcv.image
    import mmcv.image.photometric as photometric
    original = photometric.adjust_hue

    def adjust_hue(img, hue_factor, backend=None):
        if hue_factor >= 0 or not -0.5 <= hue_factor:
            return original(img, hue_factor, backend=backend)
        if not (isinstance(img, np.ndarray) and img.ndim == 3):
            return original(img, hue_factor, backend=backend)
        backend = backend or mmcv.image.io.imread_backend
        if backend not in ('cv2', 'pillow'):
            return original(img, hue_factor, backend=backend)
        return _shift_hue(img, hue_factor, backend)

    adjust_hue.__doc__ = original.__doc__
    adjust_hue.__mmconr_patch__ = True
    for module in (mmcv, mmcv.image, photometric):
        module.adjust_hue = adjust_hue
    return True
