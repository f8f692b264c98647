import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import CosineSimilarityLoss

from mmconr.models import GroupAwareCosineLoss, group_aware_cosine_loss


def test_group_aware_cosine_loss_function():
    gen = torch.Generator().manual_seed(1)
    preds = torch.randn(4, 5, generator=gen)
    targets = torch.randn(6, 5, generator=gen)
    neighbors = torch.tensor([[0, 1], [1, 5], [2, 0], [3, 3]])
    keep = torch.tensor([True, False, True, True])
    loss = group_aware_cosine_loss(preds, targets, neighbors, keep, 3.0)
    cos = F.cosine_similarity
    expected = -sum(
        (cos(preds[i], targets[neighbors[i, 0]], dim=0) +
         cos(preds[i], targets[neighbors[i, 1]], dim=0)) / 2
        for i in (0, 2, 3)) / 3
    assert torch.allclose(loss, expected, atol=1e-6)


@pytest.mark.parametrize('shift,scale', [(0., 1.), (2., 2.), (0., 0.5)])
def test_instance_stage_is_mmpretrain_cosine_similarity_loss(shift, scale):
    gen = torch.Generator().manual_seed(2)
    pred, target = torch.randn(2, 8, 5, generator=gen)
    ours = GroupAwareCosineLoss(shift_factor=shift, scale_factor=scale)
    theirs = CosineSimilarityLoss(shift_factor=shift, scale_factor=scale)
    assert torch.equal(ours(pred, target), theirs(pred, target))


@pytest.mark.parametrize('shift,scale', [(0., 1.), (2., 2.), (1., 0.5)])
def test_group_stage_applies_the_same_shift_and_scale(shift, scale):
    """Per anchor ``shift - scale * mean_j cos``, summed over the kept
    anchors / normalizer; with each anchor its own only neighbour and all
    kept it is the instance loss."""
    gen = torch.Generator().manual_seed(3)
    preds = torch.randn(5, 4, generator=gen)
    targets = torch.randn(7, 4, generator=gen)
    neighbors = torch.tensor([[0, 6, 2], [1, 1, 3], [2, 4, 5], [3, 0, 1],
                              [4, 5, 6]])
    keep = torch.tensor([True, True, False, True, False])
    loss = GroupAwareCosineLoss(shift, scale).group(preds, targets,
                                                    neighbors, keep, 2.5)
    cos = F.cosine_similarity
    expected = sum(
        shift - scale * sum(cos(preds[i], targets[j], dim=0)
                            for j in neighbors[i].tolist()) / 3
        for i in (0, 1, 3)) / 2.5
    assert torch.allclose(loss, expected, atol=1e-6)
    self_only = torch.arange(5)[:, None]
    all_kept = torch.ones(5, dtype=torch.bool)
    module = GroupAwareCosineLoss(shift, scale)
    assert torch.allclose(
        module.group(preds, targets[:5], self_only, all_kept, 5),
        module(preds, targets[:5]), atol=1e-6)
