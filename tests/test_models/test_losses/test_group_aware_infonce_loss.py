import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.losses import CrossEntropyLoss

from mmconr.models import GroupAwareInfoNCELoss


def unit(*shape, gen):
    return F.normalize(torch.randn(*shape, generator=gen), dim=-1)


def test_instance_stage_is_mmpretrain_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 9, generator=gen)
    labels = torch.zeros(6, dtype=torch.long)
    for weight in (1.0, 0.5):
        assert torch.equal(
            GroupAwareInfoNCELoss(loss_weight=weight)(logits, labels),
            CrossEntropyLoss(loss_weight=weight)(logits, labels))


@pytest.mark.parametrize('weight', [1.0, 0.3])
def test_group_stage_is_infonce_over_the_neighbours(weight):
    """Eq. 17 written out: for anchor i and positive j in N(i),
    -log(e^{q.k_j/t} / (e^{q.k_j/t} + sum_n e^{q.n/t})), averaged over
    N(i), summed over the kept anchors / normalizer, times loss_weight."""
    gen = torch.Generator().manual_seed(1)
    t = 0.2
    q, keys, queue = unit(4, 6, gen=gen), unit(7, 6, gen=gen), unit(
        11, 6, gen=gen)
    neighbors = torch.tensor([[0, 3], [1, 6], [2, 2], [3, 5]])
    keep = torch.tensor([True, False, True, True])
    loss = GroupAwareInfoNCELoss(weight).group(q, keys, neighbors, keep, 2.0,
                                               queue.t(), t)
    expected = 0.0
    for i in (0, 2, 3):
        negs = sum(math.exp(float(q[i] @ n) / t) for n in queue)
        terms = []
        for j in neighbors[i].tolist():
            pos = math.exp(float(q[i] @ keys[j]) / t)
            terms.append(-math.log(pos / (pos + negs)))
        expected += sum(terms) / len(terms)
    assert float(loss) == pytest.approx(weight * expected / 2.0, rel=1e-5)


def test_self_neighbourhood_is_the_instance_loss():
    gen = torch.Generator().manual_seed(2)
    t = 0.1
    q, k, queue = unit(5, 4, gen=gen), unit(5, 4, gen=gen), unit(
        8, 4, gen=gen)
    module = GroupAwareInfoNCELoss()
    group = module.group(q, k, torch.arange(5)[:, None],
                         torch.ones(5, dtype=torch.bool), 5, queue.t(), t)
    pos = (q * k).sum(1, keepdim=True)
    logits = torch.cat([pos, q @ queue.t()], dim=1) / t
    instance = module(logits, torch.zeros(5, dtype=torch.long))
    assert torch.allclose(group, instance, atol=1e-6)
