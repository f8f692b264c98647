"""The group-aware InfoNCE of MoCo v2 (paper Eq. 17)."""
import torch
from mmpretrain.models.losses import CrossEntropyLoss

from mmconr.registry import MODELS


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
        neighbors, keep, normalizer: as
            :func:`.group_aware_cosine_loss.group_aware_cosine_loss`.
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
class GroupAwareInfoNCELoss(CrossEntropyLoss):
    """mmpretrain's :class:`CrossEntropyLoss` over MoCo's logits (the
    instance stage: ``forward``, unchanged) plus InfoNCE with the
    neighbours as positives (the group stage: :meth:`group`); its
    ``loss_weight`` applies in both stages."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight=loss_weight)

    def group(self, queries: torch.Tensor, keys: torch.Tensor,
              neighbors: torch.Tensor, keep: torch.Tensor, normalizer,
              negatives: torch.Tensor, temperature: float) -> torch.Tensor:
        return self.loss_weight * group_aware_infonce_loss(
            queries, keys, negatives, neighbors, keep, temperature,
            normalizer)
