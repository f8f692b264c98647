"""Group-aware heads of ConNR (paper Eq. 14, 16, 17)."""
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import ContrastiveHead, LatentPredictHead

from mmconr.registry import MODELS


def group_aware_cosine_loss(preds: torch.Tensor, targets: torch.Tensor,
                            neighbors: torch.Tensor, keep: torch.Tensor,
                            normalizer) -> torch.Tensor:
    """``-sum_{kept i} mean_{j in N(i)} cos(p(i), z(j)) / normalizer``.

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
    dtype = torch.promote_types(preds.dtype, targets.dtype)
    p = F.normalize(preds.to(dtype), dim=1)
    with torch.no_grad():
        # mean_j <p, z_j> = <p, mean_j z_j>: the gradient only needs the
        # mean of the neighbours' (constant) targets, (B, D) not (B, k, D)
        z = F.normalize(targets.detach().to(dtype), dim=1)[neighbors]
        z = z.mean(dim=1)
    cos = (p * z).sum(dim=1)
    return -(cos * keep.to(cos.dtype)).sum() / normalizer


def group_aware_infonce_loss(queries: torch.Tensor, keys: torch.Tensor,
                             negatives: torch.Tensor, neighbors: torch.Tensor,
                             keep: torch.Tensor, temperature: float,
                             normalizer) -> torch.Tensor:
    """InfoNCE with the neighbours' keys as positives (paper Eq. 17).

    For anchor i and each positive k+ in N(i):
    ``-log(exp(q.k+/t) / (exp(q.k+/t) + sum_n exp(q.n/t)))`` with the MoCo v2
    queue as negatives n, averaged over N(i), summed over the kept anchors
    and divided by ``normalizer``. With N(i) = {i} this is MoCo v2's loss.

    Args:
        queries: (B, D) L2-normalised queries of the local anchors.
        keys: (G, D) L2-normalised keys of the global batch (no grad).
        negatives: (D, Q) the queue.
        neighbors, keep, normalizer: as :func:`group_aware_cosine_loss`.
    """
    dtype = torch.promote_types(queries.dtype, keys.dtype)
    queries, keys = queries.to(dtype), keys.detach().to(dtype)
    negatives = negatives.to(dtype)
    pos = torch.einsum('bd,bkd->bk', queries, keys[neighbors])
    pos = pos / temperature
    neg_lse = torch.logsumexp(queries @ negatives.detach() / temperature,
                              dim=1, keepdim=True)
    nll = torch.logaddexp(pos, neg_lse) - pos  # (B, k)
    return (nll.mean(dim=1) * keep.to(nll.dtype)).sum() / normalizer


@MODELS.register_module()
class GroupAwareBYOLHead(LatentPredictHead):
    """:class:`mmpretrain.models.LatentPredictHead` plus the group-aware loss.

    ``loss`` (inherited) is the instance-level loss of BYOL and SimSiam
    (mmpretrain uses this head for both); ``group_loss`` pulls each kept
    anchor's prediction towards the target projections of its neighbours
    (Eq. 14 for BYOL, Eq. 16 for SimSiam). With k = 1 (each anchor its own
    neighbour) and every anchor kept it equals ``loss``.
    """

    def group_loss(self, inputs: torch.Tensor, targets: torch.Tensor,
                   neighbors: torch.Tensor, keep: torch.Tensor,
                   normalizer) -> torch.Tensor:
        preds = self.predictor([inputs])[0]
        return group_aware_cosine_loss(preds, targets, neighbors, keep,
                                       normalizer)


@MODELS.register_module()
class GroupAwareContrastiveHead(ContrastiveHead):
    """:class:`mmpretrain.models.ContrastiveHead` (MoCo v2) plus the
    group-aware InfoNCE of Eq. 17."""

    def group_loss(self, queries: torch.Tensor, keys: torch.Tensor,
                   negatives: torch.Tensor, neighbors: torch.Tensor,
                   keep: torch.Tensor, normalizer) -> torch.Tensor:
        return group_aware_infonce_loss(queries, keys, negatives, neighbors,
                                        keep, self.temperature, normalizer)
