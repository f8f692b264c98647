"""ConNR on BYOL: instance-aware then group-aware concordance."""
from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS
from mmconr.utils.dist import gather_global_batch
from .group_aware import GroupAwareMixin, at_least_fp32


@MODELS.register_module()
class ConNR(GroupAwareMixin, BYOL):
    """BYOL with the Contextually Affinitive Neighborhood Refinery.

    Until a hook switches :attr:`group_stage` on, training is exactly
    mmpretrain's BYOL. In the group stage, for each view order (a, b): the
    target projections of view b are gathered over all ranks, the
    neighbourhood module retrieves every sample's neighbours among them, the
    boundary keep-mask is computed from the current centroids, pseudo labels
    and kept fraction (set by :class:`BoundaryFilterHook`; all anchors are
    kept without it), and the head's group-aware loss (Eq. 14) pulls each
    kept local anchor's online prediction of view a towards its neighbours'
    target projections of view b (docs/method.md §3).

    Args:
        neighborhood: config of the neighbourhood module
            (``ConAffNeighborhood`` or ``LocalNeighborhood``).
        Others: as :class:`mmpretrain.models.BYOL`.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 neighborhood: Union[dict, nn.Module] = dict(
                     type='ConAffNeighborhood', k=10, k1=10, k2=2),
                 base_momentum: float = 0.004,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._init_group_aware(neighborhood)

    def target_encoder(self) -> nn.Module:
        return self.target_net

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        if not self.group_stage:
            return super().loss(inputs, data_samples, **kwargs)
        views = inputs[:2]
        batch = self.global_batch(data_samples, views[0].device)
        if batch is None:
            return super().loss(inputs, data_samples, **kwargs)
        online = [self.neck(self.backbone(v))[0] for v in views]
        with torch.no_grad():
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            target = [at_least_fp32(self.target_net(v)[0]) for v in views]

        loss, retrievals = 0., []
        for a, b in ((0, 1), (1, 0)):
            z_global, _ = gather_global_batch(target[b])
            r = self.retrieve(z_global, batch)
            loss = loss + self.head.group_loss(
                online[a], z_global, r.neighbors[batch.local],
                r.keep[batch.local], r.normalizer)
            retrievals.append(r)
        # the same scale as BYOL's loss, 2 * (loss_1 + loss_2)
        return dict(loss=2. * loss, **self.diagnostics(retrievals, batch))
