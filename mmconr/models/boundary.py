"""Online boundary detection and progressive relaxation (paper Eq. 9-13)."""
import math
from typing import Optional

import torch
import torch.nn.functional as F


def boundary_ratio(feats: torch.Tensor, centroids: torch.Tensor,
                   labels: torch.Tensor) -> torch.Tensor:
    """Boundary ratio ``r = 1 - (dN - dI) / max(dI, dN)`` (Eq. 9-11).

    Args:
        feats: (B, D) target features; L2-normalised inside, as the k-means
            that produced ``centroids`` ran on L2-normalised features.
        centroids: (K, D) cluster centres, K >= 2.
        labels: (B,) pseudo label of each row, in [0, K).

    Returns:
        Tensor (B,): near 0 deep inside a cluster, 1 on the boundary between
        two clusters, up to 2 when the sample is closer to another centre.
    """
    if centroids.dim() != 2 or centroids.shape[0] < 2:
        raise ValueError('centroids must be (K, D) with K >= 2, got shape '
                         f'{tuple(centroids.shape)}')
    if feats.dim() != 2 or feats.shape[1] != centroids.shape[1]:
        raise ValueError(f'feats of shape {tuple(feats.shape)} do not match '
                         f'centroids of shape {tuple(centroids.shape)}')
    labels = labels.long().to(feats.device)
    if labels.shape != (feats.shape[0], ):
        raise ValueError(f'labels must have shape ({feats.shape[0]},), got '
                         f'{tuple(labels.shape)}')
    num_clusters = centroids.shape[0]
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_clusters):
        raise ValueError(f'labels must lie in [0, {num_clusters}), got '
                         f'[{int(labels.min())}, {int(labels.max())}]')
    z = F.normalize(feats.float(), dim=1)
    dists = torch.cdist(z, centroids.float().to(z.device))
    d_in = dists.gather(1, labels[:, None]).squeeze(1)
    dists = dists.scatter(1, labels[:, None], float('inf'))
    d_near = dists.min(dim=1).values
    denom = torch.maximum(d_in, d_near).clamp_min(1e-12)
    return 1.0 - (d_near - d_in) / denom


def relaxed_fraction(epoch: int,
                     start_epoch: int,
                     end_epoch: Optional[int],
                     start_fraction: float,
                     one_based: bool = False) -> float:
    """Kept fraction ``fr(t) = fr0 + (1 - fr0)(t - t0)/(T - t0)`` (Eq. 12).

    Clipped to ``[fr0, 1]``. ``end_epoch=None`` switches the progressive
    relaxation off (``fr(t) = fr0`` throughout). ``epoch`` counts from 0
    (mmengine's); ``one_based`` uses ``t = epoch + 1`` as the official code,
    whose epochs count from 1 (0.804 in the first epoch of its ConNR
    stage, docs/method.md §2).
    """
    if not 0.0 < start_fraction <= 1.0:
        raise ValueError(
            f'start_fraction must lie in (0, 1], got {start_fraction!r}')
    if end_epoch is None:
        return float(start_fraction)
    if end_epoch <= start_epoch:
        raise ValueError(f'end_epoch={end_epoch} must be larger than '
                         f'start_epoch={start_epoch}')
    if one_based:
        epoch = epoch + 1
    # the official code's order of operations, so that the float matches
    fraction = start_fraction + (1.0 - start_fraction) * (
        epoch - start_epoch) / (end_epoch - start_epoch)
    return float(min(max(fraction, start_fraction), 1.0))


def num_kept(fraction: float, batch_size: int) -> int:
    """``ceil(fraction * batch_size)``, robust to float noise
    (``0.07 * 100 = 7.000000000000001`` keeps 7)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f'fraction must lie in (0, 1], got {fraction!r}')
    return min(batch_size, math.ceil(round(fraction * batch_size, 6)))


KEEP_RULES = ('ceil', 'below_cut')


def keep_mask(ratios: torch.Tensor, fraction: float,
              rule: str = 'ceil') -> torch.Tensor:
    """The anchors kept by the boundary filter (Eq. 13).

    ``rule='ceil'``: the ``ceil(fraction * B)`` anchors with the smallest
    ratio, ties broken by position (stable sort), so the mask is
    deterministic. ``rule='below_cut'``: the official code's, the anchors
    whose ratio is strictly below the ``int(fraction * B)``-th smallest
    (``int(fraction * B) - 1`` anchors without ties; at least one is always
    filtered, even at fraction 1).
    """
    if rule not in KEEP_RULES:
        raise ValueError(f'keep rule must be one of {KEEP_RULES}, got '
                         f'{rule!r}')
    if ratios.dim() != 1:
        raise ValueError(f'ratios must be 1-D, got {tuple(ratios.shape)}')
    if rule == 'below_cut':
        if not 0.0 < fraction <= 1.0:
            raise ValueError(
                f'fraction must lie in (0, 1], got {fraction!r}')
        if ratios.numel() == 0:
            return torch.zeros_like(ratios, dtype=torch.bool)
        cut_index = max(int(fraction * ratios.numel()) - 1, 0)
        cut = torch.sort(ratios).values[cut_index]
        return ratios < cut
    n = num_kept(fraction, ratios.numel())
    order = torch.sort(ratios, stable=True).indices
    mask = torch.zeros_like(ratios, dtype=torch.bool)
    mask[order[:n]] = True
    return mask
