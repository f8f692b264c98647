import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.models import BYOL
from mmpretrain.structures import DataSample
from torch import nn

from mmconr.registry import MODELS


def tiny_cfg(**kwargs):
    cfg = dict(
        type='ConNR',
        backbone=dict(
            type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8),
        neck=dict(
            type='NonLinearNeck', in_channels=64, hid_channels=32,
            out_channels=16, num_layers=2, with_avg_pool=True,
            norm_cfg=dict(type='BN1d')),
        head=dict(
            type='GroupAwareBYOLHead',
            predictor=dict(
                type='NonLinearNeck', in_channels=16, hid_channels=32,
                out_channels=16, num_layers=2, with_avg_pool=False,
                norm_cfg=dict(type='BN1d')),
            loss=dict(type='GroupAwareCosineLoss')),
        neighborhood=dict(type='ConAffNeighborhood', k=4, k1=5, k2=2))
    cfg.update(kwargs)
    return cfg


def make_batch(n=12, size=8, labels=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    views = [torch.randn(n, 3, size, size, generator=gen) for _ in range(2)]
    samples = []
    for i in range(n):
        s = DataSample().set_gt_label(int(labels[i]) if labels is not None
                                      else i % 3)
        s.set_metainfo(dict(sample_idx=100 + i))
        samples.append(s)
    return views, samples


@pytest.fixture(autouse=True)
def max_iters():
    MessageHub.get_current_instance().update_info('max_iters', 100)


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg(**kwargs))


def test_instance_stage_is_mmpretrain_byol():
    model = build()
    byol_cfg = tiny_cfg()
    byol_cfg.pop('type'), byol_cfg.pop('neighborhood')
    byol_cfg['head']['type'] = 'LatentPredictHead'
    byol = BYOL(**byol_cfg)
    byol.load_state_dict(model.state_dict())
    views, samples = make_batch()
    ours = model.loss(views, samples)['loss']
    ref = byol.loss(views, samples)['loss']
    assert torch.allclose(ours, ref, atol=1e-6)


def test_group_stage_with_self_neighbourhood_equals_byol_loss():
    """k = 1 and every anchor kept: the group-aware loss is BYOL's."""
    model = build(neighborhood=dict(type='LocalNeighborhood', k=1))
    twin = copy.deepcopy(model)
    views, samples = make_batch()
    byol = twin.loss(views, samples)['loss']
    model.set_group_stage(True)
    group = model.loss(views, samples)['loss']
    assert torch.allclose(group, byol, atol=1e-6)


class FixedNeighbors(nn.Module):

    def __init__(self, neighbors):
        super().__init__()
        self.neighbors = neighbors

    def forward(self, feats):
        assert feats.shape[0] == self.neighbors.shape[0]
        return self.neighbors


def test_group_loss_equals_eq14_with_known_neighbours_and_keep_mask():
    model = build()
    n, k = 12, 3
    gen = torch.Generator().manual_seed(5)
    neighbors = torch.cat(
        [torch.arange(n)[:, None],
         torch.randint(0, n, (n, k - 1), generator=gen)], dim=1)
    model.neighborhood = FixedNeighbors(neighbors)
    views, samples = make_batch(n)
    reference = copy.deepcopy(model)

    # boundary state: pseudo labels for dataset indices 100..111
    centroids = F.normalize(torch.randn(3, 16, generator=gen), dim=1)
    pseudo = torch.zeros(200, dtype=torch.long)
    pseudo[100:112] = torch.randint(0, 3, (12, ), generator=gen)
    model.set_boundary_state(centroids, pseudo, fraction=0.75)
    model.set_group_stage(True)
    losses = model.loss(views, samples)

    # the same forward, by hand
    r = reference
    online = [r.neck(r.backbone(v))[0] for v in views]
    with torch.no_grad():
        r.target_net.update_parameters(nn.Sequential(r.backbone, r.neck))
        target = [r.target_net(v)[0] for v in views]
    expected = 0.
    kept_fracs = []
    for a, b in ((0, 1), (1, 0)):
        p = F.normalize(r.head.predictor([online[a]])[0], dim=1)
        z = F.normalize(target[b], dim=1)
        ratios = []
        for i in range(n):
            dists = (z[i] - centroids).norm(dim=1)
            d_in = dists[pseudo[100 + i]]
            d_near = min(d for j, d in enumerate(dists)
                         if j != pseudo[100 + i])
            ratios.append(float(1 - (d_near - d_in) / max(d_in, d_near)))
        order = sorted(range(n), key=lambda i: ratios[i])
        kept = set(order[:9])  # ceil(0.75 * 12)
        kept_fracs.append(len(kept) / n)
        total = 0.
        for i in kept:
            total = total + sum(p[i] @ z[j] for j in neighbors[i]) / k
        expected = expected - 2 * total / len(kept)
    assert torch.allclose(losses['loss'], expected, atol=1e-5)
    assert losses['kept_frac'].item() == pytest.approx(0.75)

    # gradients reach the online network only
    losses['loss'].backward()
    assert model.backbone.conv1.weight.grad is not None
    assert all(p.grad is None for p in model.target_net.parameters())


def test_neighbour_purity_is_logged():
    model = build(neighborhood=dict(type='LocalNeighborhood', k=3))
    views, samples = make_batch(labels=[0] * 12)
    model.set_group_stage(True)
    losses = model.loss(views, samples)
    assert losses['nbr_purity'].item() == pytest.approx(1.0)
    # unlabelled samples (label -1, an image folder): no purity, not NaN
    views, samples = make_batch(labels=[-1] * 12)
    assert 'nbr_purity' not in model.loss(views, samples)


def test_predict_returns_normalised_target_features():
    model = build().eval()
    views, samples = make_batch()
    out = model(views[0], samples, mode='predict')
    feats = torch.stack([s.pred_feat for s in out])
    assert feats.shape == (12, 16)
    assert torch.allclose(feats.norm(dim=1), torch.ones(12), atol=1e-5)
    with torch.no_grad():
        direct = F.normalize(model.target_net(views[0])[0], dim=1)
    assert torch.allclose(feats, direct, atol=1e-6)


def test_head_without_group_loss_is_rejected():
    cfg = tiny_cfg()
    cfg['head']['type'] = 'LatentPredictHead'
    with pytest.raises(TypeError, match='no group_loss'):
        MODELS.build(cfg)


def test_fraction_validation():
    with pytest.raises(ValueError, match='fraction must lie in'):
        build().set_boundary_state(None, None, 1.5)


def test_batch_smaller_than_neighbourhood_falls_back_to_byol():
    model = build()  # k1 = 5
    twin = copy.deepcopy(model)
    views, samples = make_batch(n=4)
    model.set_group_stage(True)
    losses = model.loss(views, samples)
    assert torch.allclose(losses['loss'], twin.loss(views, samples)['loss'])
    assert 'kept_frac' not in losses


def test_group_stage_hands_its_target_projections_to_a_feature_bank():
    """features='train_views': the bank gets this rank's sample indices and
    the target projections of both views the step computed."""
    model = build()
    views, samples = make_batch()
    model.set_group_stage(True)
    seen, received = [], []
    original = model.target_projections

    def spy(inputs):
        out = original(inputs)
        seen.append([t.detach().clone() for t in out])
        return out

    class Bank:
        def add(self, sample_idx, targets):
            received.append((sample_idx.clone(),
                             [t.detach().clone() for t in targets]))

    model.target_projections = spy
    model.set_feature_bank(Bank())
    model.loss(views, samples)
    (idx, targets), = received
    assert idx.tolist() == [100 + i for i in range(12)]
    # the view orders' targets: view 2's projections, then view 1's
    assert torch.equal(targets[0], seen[0][1])
    assert torch.equal(targets[1], seen[0][0])
    # off in the instance stage and without a bank
    model.set_group_stage(False)
    model.loss(views, samples)
    model.set_group_stage(True)
    model.set_feature_bank(None)
    model.loss(views, samples)
    assert len(received) == 1
