"""SimSiam + ConNR* (Eq. 16) and MoCo v2 + ConNR* (Eq. 17)."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.models import MoCo, SimSiam
from test_connr import FixedNeighbors, make_batch
from torch import nn

from mmconr.registry import MODELS

BACKBONE = dict(
    type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8)


def neck(out=16, last_bn=False):
    return dict(type='NonLinearNeck', in_channels=64, hid_channels=32,
                out_channels=out, num_layers=2, with_avg_pool=True,
                with_last_bn=last_bn, norm_cfg=dict(type='BN1d'))


def simsiam_cfg(**kwargs):
    cfg = dict(
        type='ConNRSimSiam', backbone=BACKBONE, neck=neck(last_bn=True),
        head=dict(
            type='GroupAwareBYOLHead',
            predictor=dict(type='NonLinearNeck', in_channels=16,
                           hid_channels=8, out_channels=16, num_layers=2,
                           with_avg_pool=False, with_last_bn=False,
                           with_last_bias=True, norm_cfg=dict(type='BN1d')),
            loss=dict(type='GroupAwareCosineLoss')),
        neighborhood=dict(type='ConAffNeighborhood', k=4, k1=5, k2=2))
    cfg.update(kwargs)
    return cfg


def moco_cfg(**kwargs):
    cfg = dict(
        type='ConNRMoCo', backbone=BACKBONE, neck=neck(), queue_len=48,
        feat_dim=16, momentum=0.001,
        head=dict(type='GroupAwareContrastiveHead',
                  loss=dict(type='GroupAwareInfoNCELoss'), temperature=0.2),
        neighborhood=dict(type='ConAffNeighborhood', k=4, k1=5, k2=2))
    cfg.update(kwargs)
    return cfg


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(cfg)


@pytest.fixture(autouse=True)
def max_iters():
    MessageHub.get_current_instance().update_info('max_iters', 100)


def as_parent(cfg, parent, head_type):
    cfg = copy.deepcopy(cfg)
    cfg.pop('type'), cfg.pop('neighborhood')
    cfg['head']['type'] = head_type
    return parent(**cfg)


@pytest.mark.parametrize('cfg_fn,parent,head', [
    (simsiam_cfg, SimSiam, 'LatentPredictHead'),
    (moco_cfg, MoCo, 'ContrastiveHead')])
def test_instance_stage_is_the_mmpretrain_method(cfg_fn, parent, head):
    model = build(cfg_fn())
    ref = as_parent(cfg_fn(), parent, head)
    ref.load_state_dict(model.state_dict())
    views, samples = make_batch()
    torch.manual_seed(1)
    ours = model.loss(views, samples)['loss']
    torch.manual_seed(1)
    theirs = ref.loss(views, samples)['loss']
    assert torch.allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize('cfg_fn', [simsiam_cfg, moco_cfg])
def test_self_neighbourhood_reduces_to_instance_loss(cfg_fn):
    model = build(cfg_fn(neighborhood=dict(type='LocalNeighborhood', k=1)))
    twin = copy.deepcopy(model)
    views, samples = make_batch()
    torch.manual_seed(1)
    plain = twin.loss(views, samples)['loss']
    model.set_group_stage(True)
    torch.manual_seed(1)
    group = model.loss(views, samples)['loss']
    assert torch.allclose(group, plain, atol=1e-5)


def known_state(model, n=12, k=3, fraction=0.75):
    gen = torch.Generator().manual_seed(5)
    neighbors = torch.cat(
        [torch.arange(n)[:, None],
         torch.randint(0, n, (n, k - 1), generator=gen)], dim=1)
    model.neighborhood = FixedNeighbors(neighbors)
    centroids = F.normalize(torch.randn(3, 16, generator=gen), dim=1)
    pseudo = torch.zeros(200, dtype=torch.long)
    pseudo[100:112] = torch.randint(0, 3, (12, ), generator=gen)
    model.set_boundary_state(centroids, pseudo, fraction)
    model.set_group_stage(True)
    return neighbors, centroids, pseudo


def kept_anchors(z, centroids, pseudo, n_keep):
    ratios = []
    for i in range(z.shape[0]):
        d = [float((z[i] - c).norm()) for c in centroids]
        own = int(pseudo[100 + i])
        d_in = d[own]
        d_near = min(v for j, v in enumerate(d) if j != own)
        ratios.append(1 - (d_near - d_in) / max(d_in, d_near))
    return sorted(sorted(range(len(ratios)), key=lambda i: ratios[i])[:n_keep])


def test_simsiam_group_loss_equals_eq16():
    model = build(simsiam_cfg())
    reference = copy.deepcopy(model)
    neighbors, centroids, pseudo = known_state(model)
    views, samples = make_batch()
    losses = model.loss(views, samples)

    r = reference
    z = [r.neck(r.backbone(v))[0] for v in views]
    expected = 0.
    for a, b in ((0, 1), (1, 0)):
        p = r.head.predictor([z[a]])[0]
        zb = F.normalize(z[b].detach(), dim=1)
        kept = kept_anchors(zb, centroids, pseudo, 9)
        term = 0.
        for i in kept:
            term = term + sum(-F.cosine_similarity(p[i], zb[j], dim=0)
                              for j in neighbors[i]) / len(neighbors[i])
        expected = expected + term / len(kept)
    expected = 0.5 * expected
    assert torch.allclose(losses['loss'], expected, atol=1e-5)
    assert losses['kept_frac'].item() == pytest.approx(0.75)


def test_moco_group_loss_equals_eq17():
    model = build(moco_cfg())
    reference = copy.deepcopy(model)
    neighbors, centroids, pseudo = known_state(model)
    views, samples = make_batch()
    queue_before = model.queue.clone()
    torch.manual_seed(3)
    losses = model.loss(views, samples)

    r = reference
    q = F.normalize(r.neck(r.backbone(views[0]))[0], dim=1)
    with torch.no_grad():
        r.encoder_k.update_parameters(nn.Sequential(r.backbone, r.neck))
        k = F.normalize(r.encoder_k(views[1])[0], dim=1)  # BN: batch stats
    # batch shuffling only permutes the key batch; with plain BN in one
    # process the keys are the same up to float rounding
    kept = kept_anchors(k, centroids, pseudo, 9)
    tau = 0.2
    expected = 0.
    for i in kept:
        term = 0.
        for j in neighbors[i]:
            pos = torch.exp(q[i] @ k[j] / tau)
            neg = sum(torch.exp(q[i] @ queue_before[:, m] / tau)
                      for m in range(queue_before.shape[1]))
            term = term - torch.log(pos / (pos + neg))
        expected = expected + term / len(neighbors[i])
    expected = expected / len(kept)
    assert torch.allclose(losses['loss'], expected, atol=1e-4)
    # the keys were enqueued as in MoCo v2
    assert torch.allclose(model.queue[:, :12].t(), k, atol=1e-5)
    assert int(model.queue_ptr) == 12
    assert math.isfinite(losses['nbr_purity'].item())
