"""BYOL head with the group-aware loss of ConNR (paper Eq. 14)."""
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LatentPredictHead

from mmconr.registry import MODELS


def group_aware_cosine_loss(preds: torch.Tensor, targets: torch.Tensor,
                            neighbors: torch.Tensor, keep: torch.Tensor,
                            normalizer) -> torch.Tensor:
    """``-2 * sum_{kept i} mean_{j in N(i)} <p(i), z(j)> / normalizer``.

    Args:
        preds: (B, D) online predictions of the local anchors.
        targets: (G, D) target projections of the global batch (no grad).
        neighbors: (B, k) indices into ``targets`` of each anchor's
            neighbourhood.
        keep: (B,) bool, anchors that are not boundary samples.
        normalizer: number of kept anchors the loss is averaged over (the
            global count divided by the world size, so that DDP's gradient
            average yields the global mean).
    """
    p = F.normalize(preds, dim=1)
    z = F.normalize(targets.detach(), dim=1)[neighbors]  # (B, k, D)
    cos = torch.einsum('bd,bkd->bk', p, z).mean(dim=1)
    return -2.0 * (cos * keep.to(cos.dtype)).sum() / normalizer


@MODELS.register_module()
class GroupAwareBYOLHead(LatentPredictHead):
    """:class:`mmpretrain.models.LatentPredictHead` plus the group-aware loss.

    ``loss`` (inherited) is BYOL's instance-level loss; ``group_loss``
    pulls each kept anchor's prediction towards the target projections of
    its neighbours. With k = 1 (each anchor its own neighbour) and every
    anchor kept, ``group_loss`` summed over both view orders equals
    mmpretrain BYOL's loss ``2 * (loss_1 + loss_2)``.
    """

    def group_loss(self, inputs: torch.Tensor, targets: torch.Tensor,
                   neighbors: torch.Tensor, keep: torch.Tensor,
                   normalizer) -> torch.Tensor:
        preds = self.predictor([inputs])[0]
        return group_aware_cosine_loss(preds, targets, neighbors, keep,
                                       normalizer)
