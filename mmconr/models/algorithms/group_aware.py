"""What ConNR adds to any SSL method: one mechanism for BYOL, SimSiam, MoCo.

:class:`GroupAwareMixin` holds the stage flag and boundary state the hooks
set, the target-feature extraction used by evaluation and the per-epoch
k-means, and the per-batch work of the group-aware stage: the template
:meth:`GroupAwareMixin.loss` (stage check, global batch, fallback, one
retrieval and group loss per view order), the neighbours, the boundary
keep-mask and the diagnostics. An algorithm class
(``class ConNR(GroupAwareMixin, BYOL)``) only says which encoder gives its
target features (:meth:`target_encoder`) and which (anchor, target) pairs
its head turns into a loss (:meth:`group_pairs`).
"""
import logging
from abc import abstractmethod
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmengine import dist
from mmengine.logging import MessageHub, print_log
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS
from mmconr.utils.dist import gather_global_batch
from ..boundary import KEEP_RULES, boundary_ratio, keep_mask
from ..neighborhoods import neighbor_purity


def at_least_fp32(tensor: torch.Tensor) -> torch.Tensor:
    """fp16/bf16 (AMP) -> fp32; fp32 and fp64 stay as they are."""
    if tensor.dtype in (torch.float32, torch.float64):
        return tensor
    return tensor.float()


class GlobalBatch(NamedTuple):
    sample_idx: torch.Tensor  # dataset indices of the global batch
    local: slice  # this rank's rows in it
    gt_labels: Optional[torch.Tensor]  # diagnostics only


class Retrieval(NamedTuple):
    neighbors: torch.Tensor  # (G, k) indices into the global batch
    keep: torch.Tensor  # (G,) anchors that are not boundary samples
    normalizer: torch.Tensor  # anchors averaged over / world size


class GroupPair(NamedTuple):
    """One view order of the group stage: the local ``anchors`` the head
    scores, the local ``targets`` that are gathered over ranks and searched
    for neighbours, and extra keyword arguments of the head's
    ``group_loss``."""
    anchors: torch.Tensor
    targets: torch.Tensor
    extra: Optional[Dict] = None


GROUP_LOSS_AVERAGES = ('kept', 'all')
DEFAULT_NEIGHBORHOOD = dict(type='ConAffNeighborhood', k=10, k1=10, k2=2)


class GroupAwareMixin:
    """Mix in before an mmpretrain self-supervised algorithm.

    Keyword arguments (the rest go to the algorithm):
        neighborhood: config of the neighbourhood module
            (``ConAffNeighborhood`` or ``LocalNeighborhood``).
        group_loss_weight: factor on the sum of the view orders' group
            losses (default: the class's :attr:`default_group_loss_weight`,
            the method's own instance-stage scale).
        group_loss_average: ``'kept'`` (each view order's loss is the mean
            over the kept anchors of the global batch) or ``'all'`` (the
            sum over the kept anchors divided by all anchors of the global
            batch, i.e. the filtered anchors count as zeros, as the official
            code); docs/method.md §3 compares the scales.
        keep_rule: that of :func:`mmconr.models.keep_mask`.
    """
    default_group_loss_weight = 1.0

    def __init__(self,
                 *args,
                 neighborhood=DEFAULT_NEIGHBORHOOD,
                 group_loss_weight: Optional[float] = None,
                 group_loss_average: str = 'kept',
                 keep_rule: str = 'ceil',
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if group_loss_weight is None:
            group_loss_weight = self.default_group_loss_weight
        self._init_group_aware(neighborhood, group_loss_weight,
                               group_loss_average, keep_rule)

    def _init_group_aware(self, neighborhood, group_loss_weight: float,
                          group_loss_average: str, keep_rule: str) -> None:
        if not hasattr(self.head, 'group_loss'):
            raise TypeError(f'{type(self.head).__name__} has no group_loss(); '
                            f'{type(self).__name__} needs a group-aware head')
        if group_loss_average not in GROUP_LOSS_AVERAGES:
            raise ValueError(f'group_loss_average must be one of '
                             f'{GROUP_LOSS_AVERAGES}, got '
                             f'{group_loss_average!r}')
        if not group_loss_weight > 0:
            raise ValueError(f'group_loss_weight must be positive, got '
                             f'{group_loss_weight!r}')
        if keep_rule not in KEEP_RULES:
            raise ValueError(f'keep_rule must be one of {KEEP_RULES}, got '
                             f'{keep_rule!r}')
        if isinstance(neighborhood, dict):
            neighborhood = MODELS.build(neighborhood)
        self.neighborhood = neighborhood
        self.group_loss_weight = float(group_loss_weight)
        self.group_loss_average = group_loss_average
        self.keep_rule = keep_rule
        # Stage and boundary state, set by the hooks before every epoch.
        self.group_stage = False
        self.keep_fraction = 1.0
        self.centroids: Optional[torch.Tensor] = None
        self.pseudo_labels: Optional[torch.Tensor] = None
        # BoundaryFilterHook(features='train_views') attaches a FeatureBank:
        # the group stage adds its target projections to it
        self.feature_bank = None

    # ----------------------------------------------------------- hook API
    def set_group_stage(self, enabled: bool) -> None:
        self.group_stage = bool(enabled)

    def set_boundary_state(self, centroids: Optional[torch.Tensor],
                           pseudo_labels: Optional[torch.Tensor],
                           fraction: float) -> None:
        """Centroids (K, D), pseudo label per dataset index (N,), fraction."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f'fraction must lie in (0, 1], got {fraction!r}')
        device = next(self.parameters()).device
        self.centroids = None if centroids is None else centroids.to(device)
        self.pseudo_labels = None if pseudo_labels is None else \
            pseudo_labels.to(device)
        self.keep_fraction = float(fraction)

    def set_feature_bank(self, bank) -> None:
        """``bank.add(sample_idx, views)`` receives this rank's target
        projections of every group-stage step (``None``: off)."""
        self.feature_bank = bank

    # ----------------------------------------------- features and predict
    @abstractmethod
    def target_encoder(self) -> nn.Module:
        """The network whose projections are clustered (images -> tuple)."""

    @torch.no_grad()
    def extract_target_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised target backbone+projector features (B, D), fp32."""
        return F.normalize(self.target_encoder()(inputs)[0].float(), dim=1)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0]
        feats = self.extract_target_feat(inputs)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(feats.shape[0])]
        for sample, feat in zip(data_samples, feats):
            sample.set_field(feat, 'pred_feat')
        return data_samples

    # ------------------------------------------------------------ the loss
    def instance_loss(self, inputs: List[torch.Tensor],
                      data_samples: List[DataSample],
                      **kwargs) -> Dict[str, torch.Tensor]:
        """The instance stage: the algorithm's own loss."""
        return super().loss(inputs, data_samples, **kwargs)

    @abstractmethod
    def group_pairs(self, inputs: List[torch.Tensor]) -> List[GroupPair]:
        """The forwards of a group-stage step: one :class:`GroupPair` per
        view order."""

    def after_group_loss(self, pairs: List[GroupPair]) -> None:
        """Called after the group loss of a step (MoCo: enqueue the keys)."""

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Instance stage: :meth:`instance_loss`. Group stage: for every
        view order, the targets gathered over all ranks, their neighbours
        and keep-mask, and the head's group loss of the local anchors;
        ``group_loss_weight`` times their sum, and the diagnostics. A global
        batch too small for the neighbourhood falls back to the instance
        loss."""
        if not self.group_stage:
            return self.instance_loss(inputs, data_samples, **kwargs)
        batch = self.global_batch(data_samples, inputs[0].device)
        if batch is None:
            return self.instance_loss(inputs, data_samples, **kwargs)
        pairs = self.group_pairs(inputs[:2])
        if self.feature_bank is not None:
            self.feature_bank.add(batch.sample_idx[batch.local],
                                  [pair.targets for pair in pairs])
        loss, retrievals = 0., []
        for pair in pairs:
            z_global, _ = gather_global_batch(
                at_least_fp32(pair.targets.detach()))
            r = self.retrieve(z_global, batch)
            loss = loss + self.head.group_loss(
                pair.anchors, z_global, r.neighbors[batch.local],
                r.keep[batch.local], r.normalizer, **(pair.extra or {}))
            retrievals.append(r)
        self.after_group_loss(pairs)
        return dict(loss=self.group_loss_weight * loss,
                    **self.diagnostics(retrievals, batch))

    # ------------------------------------------------ group-aware batches
    def global_batch(self, data_samples: List[DataSample],
                     device) -> Optional[GlobalBatch]:
        """Gather the global batch's indices (and labels, if any); ``None``
        when it is too small for the neighbourhood (the caller then uses
        its instance-level loss for this batch)."""
        sample_idx = torch.tensor([s.sample_idx for s in data_samples],
                                  device=device)
        global_idx, offset = gather_global_batch(sample_idx)
        min_batch = getattr(self.neighborhood, 'min_batch_size', 1)
        if global_idx.numel() < min_batch:
            print_log(
                f'{type(self).__name__}: global batch of '
                f'{global_idx.numel()} samples is smaller than '
                f'{self.neighborhood} needs; using the instance-level loss '
                'for this batch (set drop_last=True to avoid it)',
                logger='current', level=logging.WARNING)
            return None
        gt = None
        if all('gt_label' in s for s in data_samples):
            gt = torch.cat([s.gt_label.reshape(-1)[:1]
                            for s in data_samples]).to(device)
            gt = gather_global_batch(gt)[0]
        return GlobalBatch(global_idx, slice(offset,
                                             offset + len(data_samples)), gt)

    def retrieve(self, feats: torch.Tensor, batch: GlobalBatch) -> Retrieval:
        """Neighbours and keep-mask of the global batch's target features."""
        if not torch.isfinite(feats).all():
            hub = MessageHub.get_current_instance()
            bad = int((~torch.isfinite(feats).all(dim=1)).sum())
            raise FloatingPointError(
                f'{type(self).__name__}: {bad} of {feats.shape[0]} target '
                'features of the global batch are NaN or inf at epoch '
                f"{hub.get_info('epoch')} iteration {hub.get_info('iter')} "
                '(global); the target network has diverged. Lower the '
                'learning rate or switch off AMP and resume from the last '
                'checkpoint.')
        neighbors = self.neighborhood(feats)
        # the official rule filters the worst anchor even at fraction 1
        if self.centroids is None or (self.keep_fraction >= 1.0
                                      and self.keep_rule == 'ceil'):
            keep = torch.ones(feats.shape[0], dtype=torch.bool,
                              device=feats.device)
        else:
            labels = self.pseudo_labels[batch.sample_idx]
            keep = keep_mask(boundary_ratio(feats, self.centroids, labels),
                             self.keep_fraction, self.keep_rule)
        # anchors of the global batch / world size: DDP's gradient average
        # then gives the mean over them (no host sync)
        # (the official rule can keep no anchor at all: the loss is then 0)
        count = keep.sum().clamp(min=1) if \
            self.group_loss_average == 'kept' else \
            keep.new_tensor(keep.numel(), dtype=torch.float)
        return Retrieval(neighbors, keep, count / dist.get_world_size())

    def diagnostics(self, retrievals: List[Retrieval],
                    batch: GlobalBatch) -> dict:
        """``kept_frac`` and (with labels) ``nbr_purity`` for the log."""
        out = dict(
            kept_frac=torch.stack([r.keep.float().mean()
                                   for r in retrievals]).mean())
        # unlabelled data (label -1, e.g. an image folder): nothing to log
        if batch.gt_labels is not None and (batch.gt_labels >= 0).any():
            out['nbr_purity'] = torch.stack([
                neighbor_purity(r.neighbors, batch.gt_labels)
                for r in retrievals
            ]).mean()
        return out
