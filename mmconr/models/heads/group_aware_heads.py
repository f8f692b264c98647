"""Group-aware heads of ConNR: mmpretrain's heads whose ``loss_module`` is
a group-aware loss (:mod:`mmconr.models.losses`), used in both stages."""
import torch
from mmpretrain.models.heads import ContrastiveHead, LatentPredictHead

from mmconr.registry import MODELS


def check_group_aware(head, loss_module) -> None:
    if not callable(getattr(loss_module, 'group', None)):
        raise TypeError(
            f'{type(head).__name__}: its loss {type(loss_module).__name__} '
            'has no group() for the group-aware stage; use '
            'GroupAwareCosineLoss (BYOL / SimSiam) or GroupAwareInfoNCELoss '
            '(MoCo), which equal CosineSimilarityLoss / CrossEntropyLoss in '
            'the instance stage. Their scale_factor / shift_factor / '
            'loss_weight also apply in the group stage: a config written '
            'for the old heads with scale_factor=0.5 and '
            'group_loss_weight=0.25 now needs group_loss_weight=0.5')


@MODELS.register_module()
class GroupAwareBYOLHead(LatentPredictHead):
    """:class:`mmpretrain.models.LatentPredictHead` plus the group-aware loss.

    ``loss`` (inherited) is the instance-level loss of BYOL and SimSiam
    (mmpretrain uses this head for both); ``group_loss`` pulls each kept
    anchor's prediction towards the target projections of its neighbours
    (Eq. 14 for BYOL, Eq. 16 for SimSiam) with the same ``loss_module``
    (``GroupAwareCosineLoss``). With k = 1 (each anchor its own neighbour)
    and every anchor kept it equals ``loss``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        check_group_aware(self, self.loss_module)

    def group_loss(self, inputs: torch.Tensor, targets: torch.Tensor,
                   neighbors: torch.Tensor, keep: torch.Tensor,
                   normalizer) -> torch.Tensor:
        preds = self.predictor([inputs])[0]
        return self.loss_module.group(preds, targets, neighbors, keep,
                                      normalizer)


@MODELS.register_module()
class GroupAwareContrastiveHead(ContrastiveHead):
    """:class:`mmpretrain.models.ContrastiveHead` (MoCo v2) plus the
    group-aware InfoNCE of Eq. 17 with the same ``loss_module``
    (``GroupAwareInfoNCELoss``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        check_group_aware(self, self.loss_module)

    def group_loss(self, queries: torch.Tensor, keys: torch.Tensor,
                   neighbors: torch.Tensor, keep: torch.Tensor, normalizer,
                   negatives: torch.Tensor) -> torch.Tensor:
        return self.loss_module.group(queries, keys, neighbors, keep,
                                      normalizer, negatives,
                                      self.temperature)
