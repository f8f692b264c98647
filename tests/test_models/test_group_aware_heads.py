"""The group-aware heads hold their loss as ``loss_module`` and use it in
both stages."""
import pytest
import torch

from mmconr.registry import MODELS

PREDICTOR = dict(type='NonLinearNeck', in_channels=4, hid_channels=8,
                 out_channels=4, with_avg_pool=False,
                 norm_cfg=dict(type='BN1d'))


def byol_head(**loss):
    return MODELS.build(
        dict(type='GroupAwareBYOLHead', predictor=PREDICTOR,
             loss=dict(type='GroupAwareCosineLoss', **loss)))


def test_the_loss_config_reaches_the_group_stage():
    torch.manual_seed(0)
    base, half = byol_head(), byol_head(scale_factor=0.5)
    half.load_state_dict(base.state_dict())
    base.eval(), half.eval()
    x, targets = torch.randn(6, 4), torch.randn(6, 4)
    nbrs = torch.tensor([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0]])
    keep = torch.ones(6, dtype=torch.bool)
    full = base.group_loss(x, targets, nbrs, keep, 6)
    assert torch.allclose(half.group_loss(x, targets, nbrs, keep, 6),
                          0.5 * full)
    assert torch.allclose(half.loss(x, targets), 0.5 * base.loss(x, targets))


@pytest.mark.parametrize('head,loss', [
    ('GroupAwareBYOLHead', 'CosineSimilarityLoss'),
    ('GroupAwareContrastiveHead', 'CrossEntropyLoss'),
])
def test_a_loss_without_group_is_refused(head, loss):
    cfg = dict(type=head, loss=dict(type=loss))
    if head == 'GroupAwareBYOLHead':
        cfg['predictor'] = PREDICTOR
    with pytest.raises(TypeError, match=f'{loss} has no group()'):
        MODELS.build(cfg)
