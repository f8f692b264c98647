"""scikit-learn's bundled digits as an mmpretrain dataset (the demo data)."""
import numpy as np
from mmpretrain.datasets import BaseDataset

from mmconr.registry import DATASETS


@DATASETS.register_module()
class Digits(BaseDataset):
    """The 1,797 real 8x8 handwritten digits of ``sklearn.datasets``.

    Images are 0..16 grey levels, rescaled to uint8 0..255 and, with
    ``scale > 1``, enlarged by pixel repetition; ``to_rgb`` repeats the
    channel three times for RGB backbones. Needs no download.

    Args:
        scale: integer upscaling factor (8 * scale pixels a side).
        to_rgb: return (H, W, 3) instead of (H, W) images.
        indices: optional subset (int N for the first N images).
    """
    METAINFO = {'classes': tuple(str(i) for i in range(10))}

    def __init__(self,
                 scale: int = 1,
                 to_rgb: bool = True,
                 data_root: str = '',
                 **kwargs):
        if not isinstance(scale, int) or scale < 1:
            raise ValueError(f'scale must be a positive integer, got {scale}')
        self.scale = scale
        self.to_rgb = to_rgb
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
        if self.scale > 1:
            images = images.repeat(self.scale, axis=1).repeat(
                self.scale, axis=2)
        if self.to_rgb:
            images = np.repeat(images[..., None], 3, axis=-1)
        return [
            dict(img=np.ascontiguousarray(img), gt_label=int(label))
            for img, label in zip(images, digits.target)
        ]
