"""Images for display: from files or datasets, as thumbnails and grids."""
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageOps

Color = Tuple[int, int, int]


def load_rgb(path: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB, EXIF orientation applied (as the pipeline)."""
    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert('RGB'))


def dataset_image(dataset, idx: int) -> np.ndarray:
    """The raw image of sample ``idx`` as (H, W, 3) uint8 RGB.

    Datasets that hold arrays (mmpretrain's CIFAR, mmconr's Digits and
    STL10) store them RGB; the others give an ``img_path``.
    """
    info = dataset.get_data_info(idx)
    if 'img' in info:
        img = np.asarray(info['img'])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        return img.astype(np.uint8)
    if 'img_path' in info:
        return load_rgb(info['img_path'])
    raise KeyError(f'{type(dataset).__name__}[{idx}] has neither img nor '
                   'img_path')


def thumbnail(img: np.ndarray, size: int, background: int = 255
              ) -> np.ndarray:
    """``img`` scaled to fit a ``size`` x ``size`` square (aspect kept,
    centred); small images are enlarged without smoothing."""
    pil = Image.fromarray(img)
    w, h = pil.size
    scale = size / max(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.NEAREST if scale >= 2 else Image.LANCZOS
    pil = pil.resize(new, resample)
    out = np.full((size, size, 3), background, np.uint8)
    top, left = (size - new[1]) // 2, (size - new[0]) // 2
    out[top:top + new[1], left:left + new[0]] = np.asarray(pil)
    return out


def image_grid(images: Sequence[np.ndarray],
               ncols: int,
               size: int = 64,
               pad: int = 2,
               border: int = 0,
               border_colors: Optional[Sequence[Optional[Color]]] = None,
               background: int = 255) -> np.ndarray:
    """Thumbnails in rows of ``ncols``; with ``border > 0`` each cell gets
    a frame of ``border_colors[i]`` (``None``: no frame)."""
    if not images:
        raise ValueError('image_grid needs at least one image')
    nrows = -(-len(images) // ncols)
    cell = size + 2 * border + pad
    grid = np.full((nrows * cell + pad, ncols * cell + pad, 3), background,
                   np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        top, left = pad + r * cell, pad + c * cell
        color = border_colors[i] if border_colors is not None else None
        if border and color is not None:
            grid[top:top + size + 2 * border,
                 left:left + size + 2 * border] = color
        grid[top + border:top + border + size,
             left + border:left + border + size] = thumbnail(
                 img, size, background)
    return grid
