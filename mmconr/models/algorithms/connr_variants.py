"""ConNR* as a plug-in for SimSiam and MoCo v2 (paper §4.5, Eq. 16-17).

Both take mmpretrain's arguments plus the group-aware ones of
:class:`~.group_aware.GroupAwareMixin` (``neighborhood``,
``group_loss_weight``, ``group_loss_average``, ``keep_rule``).
"""
from typing import List

import torch
import torch.nn.functional as F
from mmpretrain.models import MoCo, SimSiam
from mmpretrain.models.utils import batch_shuffle_ddp, batch_unshuffle_ddp
from torch import nn

from mmconr.registry import MODELS
from .group_aware import GroupAwareMixin, GroupPair


@MODELS.register_module()
class ConNRSimSiam(GroupAwareMixin, SimSiam):
    """SimSiam + ConNR* (Eq. 16).

    Instance stage: mmpretrain's SimSiam. Group stage: for each view order
    (a, b) the prediction of view a is compared, ``D(p, stopgrad(z))``, with
    the projections of view b of its neighbours (retrieved among the gathered
    view-b projections); averaged over the neighbourhood and the kept
    anchors, symmetric, with SimSiam's scale ``0.5 * (loss_1 + loss_2)``
    (``group_loss_weight`` 0.5 by default). SimSiam has no target network:
    its (online) backbone + projector give the features that are clustered.
    """
    default_group_loss_weight = 0.5

    def target_encoder(self) -> nn.Module:
        return nn.Sequential(self.backbone, self.neck)

    def group_pairs(self, views: List[torch.Tensor]) -> List[GroupPair]:
        z = [self.neck(self.backbone(v))[0] for v in views]
        return [GroupPair(z[0], z[1]), GroupPair(z[1], z[0])]


@MODELS.register_module()
class ConNRMoCo(GroupAwareMixin, MoCo):
    """MoCo v2 + ConNR* (Eq. 17).

    Instance stage: mmpretrain's MoCo (v2 with its configs). Group stage:
    InfoNCE of each query with the keys of its neighbours (retrieved among
    the gathered keys) as positives and the queue as negatives, averaged
    over the neighbourhood and the kept anchors; the keys enter the queue as
    in MoCo v2. The momentum key encoder gives the clustered features.
    ``group_loss_weight`` 1 by default (MoCo's scale).
    """
    default_group_loss_weight = 1.0

    def target_encoder(self) -> nn.Module:
        return self.encoder_k

    def group_pairs(self, views: List[torch.Tensor]) -> List[GroupPair]:
        im_q, im_k = views
        q = F.normalize(self.neck(self.backbone(im_q))[0], dim=1)
        with torch.no_grad():
            self.encoder_k.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            im_k, idx_unshuffle = batch_shuffle_ddp(im_k)
            k = F.normalize(self.encoder_k(im_k)[0], dim=1)
            k = batch_unshuffle_ddp(k, idx_unshuffle)
        return [GroupPair(q, k, dict(negatives=self.queue.clone()))]

    def after_group_loss(self, pairs: List[GroupPair]) -> None:
        self._dequeue_and_enqueue(pairs[0].targets)
