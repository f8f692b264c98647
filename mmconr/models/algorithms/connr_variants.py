"""ConNR* as a plug-in for SimSiam and MoCo v2 (paper §4.5, Eq. 16-17)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmpretrain.models import MoCo, SimSiam
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS
from mmconr.utils.dist import gather_global_batch
from .group_aware import GroupAwareMixin, at_least_fp32

DEFAULT_NEIGHBORHOOD = dict(type='ConAffNeighborhood', k=10, k1=10, k2=2)


@MODELS.register_module()
class ConNRSimSiam(GroupAwareMixin, SimSiam):
    """SimSiam + ConNR* (Eq. 16).

    Instance stage: mmpretrain's SimSiam. Group stage: for each view order
    (a, b) the prediction of view a is compared, ``D(p, stopgrad(z))``, with
    the projections of view b of its neighbours (retrieved among the gathered
    view-b projections); averaged over the neighbourhood and the kept
    anchors, symmetric, with SimSiam's scale ``0.5 * (loss_1 + loss_2)``.
    SimSiam has no target network: its (online) backbone + projector give
    the features that are clustered. ``group_loss_weight``,
    ``group_loss_average`` and ``keep_rule``: as :class:`ConNR`.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 neighborhood: Union[dict, nn.Module] = DEFAULT_NEIGHBORHOOD,
                 group_loss_weight: float = 0.5,
                 group_loss_average: str = 'kept',
                 keep_rule: str = 'ceil',
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._init_group_aware(neighborhood, group_loss_weight,
                               group_loss_average, keep_rule)

    def target_encoder(self) -> nn.Module:
        return nn.Sequential(self.backbone, self.neck)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        if not self.group_stage:
            return super().loss(inputs, data_samples, **kwargs)
        views = inputs[:2]
        batch = self.global_batch(data_samples, views[0].device)
        if batch is None:
            return super().loss(inputs, data_samples, **kwargs)
        z = [self.neck(self.backbone(v))[0] for v in views]
        loss, retrievals = 0., []
        for a, b in ((0, 1), (1, 0)):
            z_global, _ = gather_global_batch(at_least_fp32(z[b].detach()))
            r = self.retrieve(z_global, batch)
            loss = loss + self.head.group_loss(
                z[a], z_global, r.neighbors[batch.local],
                r.keep[batch.local], r.normalizer)
            retrievals.append(r)
        # default 0.5: SimSiam's scale, 0.5 * (loss_1 + loss_2)
        return dict(loss=self.group_loss_weight * loss,
                    **self.diagnostics(retrievals, batch))


@MODELS.register_module()
class ConNRMoCo(GroupAwareMixin, MoCo):
    """MoCo v2 + ConNR* (Eq. 17).

    Instance stage: mmpretrain's MoCo (v2 with its configs). Group stage:
    InfoNCE of each query with the keys of its neighbours (retrieved among
    the gathered keys) as positives and the queue as negatives, averaged
    over the neighbourhood and the kept anchors; the keys enter the queue as
    in MoCo v2. The momentum key encoder gives the clustered features.
    ``group_loss_weight`` (default 1, MoCo's scale), ``group_loss_average``
    and ``keep_rule``: as :class:`ConNR`.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 neighborhood: Union[dict, nn.Module] = DEFAULT_NEIGHBORHOOD,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 group_loss_weight: float = 1.0,
                 group_loss_average: str = 'kept',
                 keep_rule: str = 'ceil',
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=queue_len,
            feat_dim=feat_dim,
            momentum=momentum,
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self._init_group_aware(neighborhood, group_loss_weight,
                               group_loss_average, keep_rule)

    def target_encoder(self) -> nn.Module:
        return self.encoder_k

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        if not self.group_stage:
            return super().loss(inputs, data_samples, **kwargs)
        im_q, im_k = inputs[:2]
        batch = self.global_batch(data_samples, im_q.device)
        if batch is None:
            return super().loss(inputs, data_samples, **kwargs)
        q = F.normalize(self.neck(self.backbone(im_q))[0], dim=1)
        with torch.no_grad():
            self.encoder_k.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = F.normalize(self.encoder_k(im_k)[0], dim=1)
            k = batch_unshuffle_ddp(k, idx_unshuffle)
        k_global, _ = gather_global_batch(at_least_fp32(k))
        r = self.retrieve(k_global, batch)
        loss = self.head.group_loss(q, k_global, self.queue.clone(),
                                    r.neighbors[batch.local],
                                    r.keep[batch.local], r.normalizer)
        self._dequeue_and_enqueue(k)
        return dict(loss=self.group_loss_weight * loss,
                    **self.diagnostics([r], batch))
