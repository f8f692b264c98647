"""ConNR on BYOL: instance-aware then group-aware concordance."""
import logging
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmengine import dist
from mmengine.logging import print_log
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS
from mmconr.utils.dist import gather_global_batch
from ..boundary import boundary_ratio, keep_mask


@MODELS.register_module()
class ConNR(BYOL):
    """BYOL with the Contextually Affinitive Neighborhood Refinery.

    Until a hook switches :attr:`group_stage` on, training is exactly
    mmpretrain's BYOL. In the group stage, for each view order (a, b):
    the target projections of view b are gathered over all ranks, the
    neighbourhood module retrieves every sample's neighbours among them, the
    boundary keep-mask is computed from the current centroids, pseudo labels
    and kept fraction (set by :class:`BoundaryFilterHook`; all anchors are
    kept without it), and the head's group-aware loss pulls each kept local
    anchor's online prediction of view a towards its neighbours' target
    projections of view b (DESIGN §1.3).

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
        if not hasattr(self.head, 'group_loss'):
            raise TypeError(f'{type(self.head).__name__} has no group_loss(); '
                            'ConNR needs a group-aware head such as '
                            'GroupAwareBYOLHead')
        if isinstance(neighborhood, dict):
            neighborhood = MODELS.build(neighborhood)
        self.neighborhood = neighborhood
        # Stage and boundary state, set by the hooks before every epoch.
        self.group_stage = False
        self.keep_fraction = 1.0
        self.centroids: Optional[torch.Tensor] = None
        self.pseudo_labels: Optional[torch.Tensor] = None

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

    # ------------------------------------------------------------ forward
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        return super().forward(inputs, data_samples, mode)

    @torch.no_grad()
    def extract_target_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """L2-normalised target backbone+projector features (B, D), fp32."""
        return F.normalize(self.target_net(inputs)[0].float(), dim=1)

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

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        if not self.group_stage:
            return super().loss(inputs, data_samples, **kwargs)
        assert isinstance(inputs, list) and len(inputs) >= 2
        views = inputs[:2]
        batch_size = views[0].shape[0]
        sample_idx = torch.tensor([s.sample_idx for s in data_samples],
                                  device=views[0].device)
        global_idx, offset = gather_global_batch(sample_idx)
        min_batch = getattr(self.neighborhood, 'min_batch_size', 1)
        if global_idx.numel() < min_batch:
            # e.g. a last batch without drop_last: too few samples for the
            # neighbourhood; this batch trains with the instance-level loss.
            print_log(
                f'ConNR: global batch of {global_idx.numel()} samples is '
                f'smaller than {self.neighborhood} needs; using the BYOL '
                'loss for this batch (set drop_last=True to avoid it)',
                logger='current', level=logging.WARNING)
            return super().loss(inputs, data_samples, **kwargs)

        online = [self.neck(self.backbone(v))[0] for v in views]
        with torch.no_grad():
            self.target_net.update_parameters(
                nn.Sequential(self.backbone, self.neck))
            target = [self.target_net(v)[0].float() for v in views]
        local = slice(offset, offset + batch_size)
        gt = self._gt_labels(data_samples, views[0].device)
        global_gt = gather_global_batch(gt)[0] if gt is not None else None

        loss = 0.
        purity, kept = [], []
        for a, b in ((0, 1), (1, 0)):
            z_global, _ = gather_global_batch(target[b])
            neighbors = self.neighborhood(z_global)
            keep = self._keep_mask(z_global, global_idx)
            normalizer = keep.sum() / dist.get_world_size()  # no sync
            loss = loss + self.head.group_loss(online[a], z_global,
                                               neighbors[local], keep[local],
                                               normalizer)
            kept.append(keep.float().mean())
            if global_gt is not None:
                purity.append(self._neighbor_purity(neighbors, global_gt))
        losses = dict(loss=loss, kept_frac=torch.stack(kept).mean())
        if purity:
            losses['nbr_purity'] = torch.stack(purity).mean()
        return losses

    # ------------------------------------------------------------ helpers
    def _keep_mask(self, feats: torch.Tensor,
                   sample_idx: torch.Tensor) -> torch.Tensor:
        if self.keep_fraction >= 1.0 or self.centroids is None:
            return torch.ones(
                feats.shape[0], dtype=torch.bool, device=feats.device)
        labels = self.pseudo_labels[sample_idx]
        ratios = boundary_ratio(feats, self.centroids, labels)
        return keep_mask(ratios, self.keep_fraction)

    @staticmethod
    def _gt_labels(data_samples: List[DataSample],
                   device) -> Optional[torch.Tensor]:
        if not all('gt_label' in s for s in data_samples):
            return None
        return torch.cat([s.gt_label.reshape(-1)[:1]
                          for s in data_samples]).to(device)

    @staticmethod
    def _neighbor_purity(neighbors: torch.Tensor,
                         labels: torch.Tensor) -> torch.Tensor:
        """Share of each anchor's neighbours (self excluded) of its class,
        over the anchors with a label (diagnostics only)."""
        others = neighbors[:, 1:] if neighbors.shape[1] > 1 else neighbors
        same = (labels[others] == labels[:, None]).float()
        valid = labels >= 0
        if not valid.any():
            return same.new_tensor(float('nan'))
        return same[valid].mean()
