"""ConNR on BYOL: instance-aware then group-aware concordance."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import MessageHub
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS
from mmconr.utils.dist import shuffled_forward
from ..utils import TargetEMA
from .group_aware import (DEFAULT_NEIGHBORHOOD, GroupAwareMixin, GroupPair,
                          at_least_fp32)

TARGET_BUFFERS = ('online', 'own')
TARGET_UPDATES = ('before_forward', 'after_forward')


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

    The defaults are mmpretrain's BYOL and mmconr's group loss; the official
    recipe (``configs/conr/byol_conr_cifar10.py``, docs/reproduction.md)
    sets ``target_buffers='own'``, ``shuffle_target=True``,
    ``target_update='after_forward'``, ``group_loss_weight=0.5``,
    ``group_loss_average='all'`` and ``keep_rule='below_cut'``.

    Args:
        neighborhood: config of the neighbourhood module
            (``ConAffNeighborhood`` or ``LocalNeighborhood``).
        group_loss_weight: factor on the sum of the two view orders' group
            losses, each scored by the head's loss (its ``scale_factor``
            applies in both stages). 2 (default, ``None``): BYOL's scale,
            ``2 * (loss_1 + loss_2)``; 0.5 with ``scale_factor=0.5`` and
            ``group_loss_average='all'``: the official run's effective step
            (its ``0.5 * (L1 + L2)`` with ``L = -2 mean``, times the 1/4 its
            GatherLayer leaves after DDP's average on 4 GPUs), on any
            number of GPUs.
        group_loss_average: ``'kept'`` (mean over the kept anchors) or
            ``'all'`` (filtered anchors count as zeros, as the official
            code).
        keep_rule: ``'ceil'`` or the official ``'below_cut'``
            (:func:`mmconr.models.keep_mask`).
        target_buffers: ``'online'``: mmengine's EMA copies the online BN
            running statistics into the target at every step (mmpretrain's
            BYOL); ``'own'``: only the parameters are averaged and the
            target keeps the statistics of its own forwards (official).
        shuffle_target: feed the target a shuffled global batch
            (shuffled BN, official), so that its BN groups mix samples of
            different processes; a fresh permutation per view and
            iteration, from the seed ``shuffle_seed`` and the iteration.
        target_update: ``'before_forward'`` (mmpretrain: the EMA update of
            an iteration comes before the target's forward, with the
            momentum of step ``n``) or ``'after_forward'`` (official: after
            it, with the momentum of the 1-based iteration ``n + 1``).
        shuffle_seed: seed of the target shuffle.
        Others: as :class:`mmpretrain.models.BYOL`.
    """

    default_group_loss_weight = 2.0

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 neighborhood: Union[dict, nn.Module] = DEFAULT_NEIGHBORHOOD,
                 base_momentum: float = 0.004,
                 group_loss_weight: Optional[float] = None,
                 group_loss_average: str = 'kept',
                 keep_rule: str = 'ceil',
                 target_buffers: str = 'online',
                 shuffle_target: bool = False,
                 target_update: str = 'before_forward',
                 shuffle_seed: int = 0,
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
            init_cfg=init_cfg,
            neighborhood=neighborhood,
            group_loss_weight=group_loss_weight,
            group_loss_average=group_loss_average,
            keep_rule=keep_rule)
        for name, value, allowed in (
                ('target_buffers', target_buffers, TARGET_BUFFERS),
                ('target_update', target_update, TARGET_UPDATES)):
            if value not in allowed:
                raise ValueError(
                    f'{name} must be one of {allowed}, got {value!r}')
        self.target_buffers = target_buffers
        self.shuffle_target = bool(shuffle_target)
        self.target_update = target_update
        self.shuffle_seed = int(shuffle_seed)
        self._shuffle_calls = 0
        if target_buffers == 'own' or target_update == 'after_forward':
            # mmpretrain's BYOL built a CosineEMA; same momentum, but the
            # buffers stay the target's and/or the 1-based momentum step
            self.target_net = TargetEMA(
                nn.Sequential(self.backbone, self.neck),
                momentum=base_momentum,
                copy_buffers=target_buffers == 'online',
                count_from=1 if target_update == 'after_forward' else 0)

    @property
    def is_mmpretrain_byol(self) -> bool:
        """Whether the instance stage is exactly mmpretrain's BYOL."""
        return (not self.shuffle_target and self.target_buffers == 'online'
                and self.target_update == 'before_forward')

    def target_encoder(self) -> nn.Module:
        return self.target_net

    def _shuffle_generator(self, view: int) -> torch.Generator:
        """One permutation per view and training iteration: the seed is
        ``shuffle_seed``, the global iteration (from the MessageHub, so the
        same on every rank and after a resume) and the view."""
        step = MessageHub.get_current_instance().get_info('iter')
        if step is None:  # outside a runner
            step = self._shuffle_calls
            self._shuffle_calls += 1
        return torch.Generator().manual_seed(
            (self.shuffle_seed * 1_000_003 + int(step)) * 2 + view)

    @torch.no_grad()
    def target_projections(self, views: List[torch.Tensor]
                           ) -> List[torch.Tensor]:
        """The target's projections of both views (fp32), the EMA update
        before or after the forwards as ``target_update`` says."""
        online = nn.Sequential(self.backbone, self.neck)
        # The first update copies the online parameters (mmengine). After
        # the forwards that would leave the first iteration's target with
        # the weights it was built with, before init_weights() initialised
        # the online net; the official target starts as a copy, and its
        # first (after-forward) update is then a no-op: copy first.
        first = int(self.target_net.steps) == 0
        if self.target_update == 'before_forward' or first:
            self.target_net.update_parameters(online)
        if self.shuffle_target:
            out = [
                shuffled_forward(lambda x: self.target_net(x)[0], v,
                                 self._shuffle_generator(i))
                for i, v in enumerate(views)
            ]
        else:
            out = [self.target_net(v)[0] for v in views]
        if self.target_update == 'after_forward' and not first:
            self.target_net.update_parameters(online)
        return [at_least_fp32(t) for t in out]

    def instance_loss(self, inputs: List[torch.Tensor],
                      data_samples: List[DataSample],
                      **kwargs) -> Dict[str, torch.Tensor]:
        """BYOL's loss, ``2 * (loss_1 + loss_2)`` with the head's loss; with
        the default options mmpretrain's ``BYOL.loss`` itself."""
        if self.is_mmpretrain_byol:
            return super().instance_loss(inputs, data_samples, **kwargs)
        views = inputs[:2]
        online = [self.neck(self.backbone(v))[0] for v in views]
        target = self.target_projections(views)
        loss_1 = self.head.loss(online[0], target[1])
        loss_2 = self.head.loss(online[1], target[0])
        return dict(loss=2. * (loss_1 + loss_2))

    def group_pairs(self, views: List[torch.Tensor]) -> List[GroupPair]:
        """The online projections of each view against the target
        projections of the other."""
        online = [self.neck(self.backbone(v))[0] for v in views]
        target = self.target_projections(views)
        return [
            GroupPair(online[0], target[1]),
            GroupPair(online[1], target[0])
        ]
