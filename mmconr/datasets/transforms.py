"""Image loading that names the file when it cannot be read.

mmcv's ``LoadImageFromFile`` lets the decoder's error through without the
path, and OpenCV decodes a truncated JPEG silently (grey bottom rows).
:class:`CheckedLoadImageFromFile` (same arguments; its own registry name, so
that ``LoadImageFromFile`` keeps mmcv's meaning) raises
:class:`CorruptImageError` naming the file for an empty, unreadable,
undecodable or truncated image.
"""
import io
from typing import Optional

import mmcv
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from PIL import Image

from mmconr.registry import TRANSFORMS

_JPEG = b'\xff\xd8'
_PNG = b'\x89PNG\r\n\x1a\n'


class CorruptImageError(OSError):
    """An image file that cannot be used; the message names the file."""


def truncation_hint(data: bytes) -> Optional[str]:
    """Cheap structural check of an encoded JPEG / PNG: why it looks
    truncated, or ``None``."""
    if data.startswith(_JPEG):
        if not data.rstrip(b'\x00').endswith(b'\xff\xd9'):
            return 'no JPEG end-of-image marker'
    elif data.startswith(_PNG):
        if b'IEND' not in data[-12:]:
            return 'no PNG IEND chunk'
    return None


def check_image_bytes(data: bytes, filename: str) -> None:
    """Raise :class:`CorruptImageError` for an empty or truncated image;
    a file that only looks truncated but decodes fully with Pillow (e.g.
    bytes after the end marker) passes."""
    if not data:
        raise CorruptImageError(f'image file {filename} is empty (0 bytes)')
    hint = truncation_hint(data)
    if hint is None:
        return
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except Exception as err:
        raise CorruptImageError(
            f'image file {filename} is truncated or corrupt ({hint}; '
            f'{err})') from err


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """:class:`mmcv.transforms.LoadImageFromFile` with errors that name the
    file (see module docstring). ``ignore_empty=True`` still returns
    ``None`` for such files (the dataset then re-samples)."""

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            data = fileio.get(filename, backend_args=self.backend_args)
            check_image_bytes(data, filename)
            img = mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
            if img is None:
                raise CorruptImageError(
                    f'image file {filename} could not be decoded (corrupt '
                    'or not an image)')
        except CorruptImageError:
            if self.ignore_empty:
                return None
            raise
        except Exception as err:
            if self.ignore_empty:
                return None
            raise CorruptImageError(
                f'cannot load image file {filename}: {err}') from err
        if self.to_float32:
            img = img.astype('float32')
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
