"""FeatureBank: clustering features from the training steps themselves.

The group-aware stage computes target projections of the samples it trains
on (both augmented views for BYOL and SimSiam, the key view for MoCo). The
bank keeps, per dataset index, the mean of those (L2-normalised)
projections since the last collect; before the next k-means
:meth:`FeatureBank.collect` sums them over the ranks and replaces the rows
of the samples seen since then. Rows of
samples not seen (``drop_last``) keep their previous features, those of
the whole-dataset pass that started the bank. So the per-epoch k-means
needs no extra forward pass over the dataset
(``BoundaryFilterHook(features='train_views')``).
"""
import torch
import torch.nn.functional as F
from mmengine import dist


class FeatureBank:
    """Per-sample target features, refreshed by the training steps.

    Args:
        feats: (N, D) features to start from (the whole-dataset pass), on
            the device the training runs on.
    """

    def __init__(self, feats: torch.Tensor) -> None:
        self.feats = F.normalize(feats.detach().float(), dim=1).clone()
        self.sums = torch.zeros_like(self.feats)
        self.counts = torch.zeros(self.feats.shape[0],
                                  device=self.feats.device)

    @property
    def num_samples(self) -> int:
        return self.feats.shape[0]

    def add(self, sample_idx: torch.Tensor, views) -> None:
        """Add the target projections ``views`` (each (B, D), rows in the
        order of ``sample_idx``) of this rank's samples."""
        idx = sample_idx.to(self.sums.device).long()
        for view in views:
            z = F.normalize(view.detach().float(), dim=1)
            self.sums.index_add_(0, idx, z.to(self.sums.device))
            self.counts.index_add_(
                0, idx, torch.ones_like(idx, dtype=self.counts.dtype))

    def collect(self) -> int:
        """Fold what the ranks added since the last collect into
        :attr:`feats` (the mean of a sample's projections, normalised);
        return how many samples were seen. Every rank must call it."""
        dist.all_reduce(self.sums, op='sum')
        dist.all_reduce(self.counts, op='sum')
        seen = self.counts > 0
        self.feats[seen] = F.normalize(
            self.sums[seen] / self.counts[seen, None], dim=1)
        self.sums.zero_()
        self.counts.zero_()
        return int(seen.sum())
