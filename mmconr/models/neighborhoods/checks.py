"""The one validator of neighbourhood arguments and features."""
from typing import Optional

import torch

METHODS = ('auto', 'dense', 'sparse')


def check_feats(feats: torch.Tensor) -> None:
    """``feats`` must be a finite, non-empty 2-D tensor (B, D)."""
    if not isinstance(feats, torch.Tensor) or feats.dim() != 2:
        raise ValueError('feats must be a 2-D tensor (B, D), got '
                         f'{getattr(feats, "shape", type(feats))}')
    if feats.shape[0] == 0:
        raise ValueError('feats is empty: a batch of 0 samples has no '
                         'neighbours')
    if not torch.isfinite(feats).all():
        raise ValueError('feats contains NaN or inf values; cannot retrieve '
                         'neighbours')


def check_args(batch_size: Optional[int] = None,
               method: Optional[str] = None,
               num_layers: Optional[int] = None,
               **sizes: int) -> None:
    """Check neighbourhood sizes (``k``, ``k1``, ``k2`` as keywords, in
    that order of meaning), ``num_layers`` and ``method``.

    Every size must be a positive integer, at most ``batch_size`` when one
    is given (the global batch the neighbours are retrieved from), and
    ``k2 <= k1`` when both are given.
    """
    for name, value in sizes.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(
                f'{name} must be a positive integer, got {value!r}')
        if batch_size is not None and value > batch_size:
            raise ValueError(
                f'{name}={value} is larger than the (global) batch size '
                f'{batch_size}; use a larger batch, drop_last=True or a '
                f'smaller {name}')
    if 'k1' in sizes and 'k2' in sizes and sizes['k2'] > sizes['k1']:
        raise ValueError(
            f"k2={sizes['k2']} must not exceed k1={sizes['k1']}: the "
            'propagation uses the first k2 of the k1 retrieved neighbours')
    if num_layers is not None and (not isinstance(num_layers, int)
                                   or num_layers < 0):
        raise ValueError(
            f'num_layers must be a non-negative integer, got {num_layers!r}')
    if method is not None and method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
