"""The group-aware cosine loss of BYOL and SimSiam (paper Eq. 14, 16)."""
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import CosineSimilarityLoss

from mmconr.registry import MODELS


def group_aware_cosine_loss(preds: torch.Tensor,
                            targets: torch.Tensor,
                            neighbors: torch.Tensor,
                            keep: torch.Tensor,
                            normalizer,
                            shift_factor: float = 0.,
                            scale_factor: float = 1.) -> torch.Tensor:
    """``sum_{kept i} (shift - scale * mean_{j in N(i)} cos(p(i), z(j)))
    / normalizer``.

    Args:
        preds: (B, D) online predictions of the local anchors.
        targets: (G, D) target projections of the global batch (no grad).
        neighbors: (B, k) indices into ``targets`` of each anchor's
            neighbourhood.
        keep: (B,) bool, anchors that are not boundary samples.
        normalizer: number of anchors the loss is averaged over (the
            global count divided by the world size, so that DDP's gradient
            average yields the global mean).
        shift_factor, scale_factor: as mmpretrain's CosineSimilarityLoss.
    """
    dtype = torch.promote_types(preds.dtype, targets.dtype)
    p = F.normalize(preds.to(dtype), dim=1)
    with torch.no_grad():
        # mean_j <p, z_j> = <p, mean_j z_j>: the gradient only needs the
        # mean of the neighbours' (constant) targets, (B, D) not (B, k, D)
        z = F.normalize(targets.detach().to(dtype), dim=1)[neighbors]
        z = z.mean(dim=1)
    per_anchor = shift_factor - scale_factor * (p * z).sum(dim=1)
    return (per_anchor * keep.to(per_anchor.dtype)).sum() / normalizer


@MODELS.register_module()
class GroupAwareCosineLoss(CosineSimilarityLoss):
    """mmpretrain's :class:`CosineSimilarityLoss` (the instance stage:
    ``forward``, unchanged) that also scores an anchor against its
    neighbourhood (the group stage: :meth:`group`), with the same
    ``shift_factor`` and ``scale_factor`` in both stages."""

    def group(self, preds: torch.Tensor, targets: torch.Tensor,
              neighbors: torch.Tensor, keep: torch.Tensor,
              normalizer) -> torch.Tensor:
        return group_aware_cosine_loss(preds, targets, neighbors, keep,
                                       normalizer, self.shift_factor,
                                       self.scale_factor)
