import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from mmconr.models.neighborhoods import (ConAffNeighborhood, LocalNeighborhood,
                                         conaff_affinity, conaff_neighbors,
                                         local_neighbors)


def reference_conaff(feats, k, k1, k2, num_layers=2):
    """DESIGN §1.1 written as loops over samples, in float64."""
    z = feats.double()
    z = z / z.norm(dim=1, keepdim=True)
    n = z.shape[0]
    sim = [[float(z[i] @ z[j]) for j in range(n)] for i in range(n)]
    ranks, weights = [], []
    for i in range(n):
        others = sorted((j for j in range(n) if j != i),
                        key=lambda j: -sim[i][j])
        row = [i] + others[:k1 - 1]
        ranks.append(row)
        weights.append([1.0] + [sim[i][j]**2 for j in row[1:]])
    a = np.zeros((n, n))
    for i in range(n):
        for j in ranks[i]:
            a[i, j] = 1.0
    if k2 > 1:
        for _ in range(num_layers):
            sym = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    sym[i, j] = a[i, j] + a[j, i]
            new = np.zeros((n, n))
            for i in range(n):
                for t in range(k2):
                    new[i] += weights[i][t] * sym[ranks[i][t]]
                new[i] /= math.sqrt(sum(v * v for v in new[i]))
            a = new
    ctx = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ctx[i, j] = sum(a[i, t] * a[j, t] for t in range(n))
    return a, ctx


@pytest.mark.parametrize('n,k,k1,k2', [(40, 10, 10, 2), (48, 20, 30, 10),
                                       (32, 5, 8, 1), (24, 4, 6, 3),
                                       (30, 10, 10, 10)])
def test_conaff_equals_loop_reference(n, k, k1, k2):
    torch.manual_seed(n * 100 + k2)
    feats = torch.randn(n, 12)
    ref_a, ref_c = reference_conaff(feats, k, k1, k2)
    a = conaff_affinity(feats, k1, k2).double().numpy()
    np.testing.assert_allclose(a, ref_a, atol=1e-5)

    nbrs = conaff_neighbors(feats, k, k1, k2)
    assert nbrs.shape == (n, k) and nbrs.dtype == torch.long
    for i in range(n):
        row = nbrs[i].tolist()
        assert row[0] == i, 'the sample itself comes first'
        assert len(set(row)) == k
        # the chosen neighbours carry the k largest contextual similarities
        # (compared by value: k2 = 1 gives integer ties)
        others = sorted((ref_c[i, j] for j in range(n) if j != i),
                        reverse=True)[:k - 1]
        chosen = sorted((ref_c[i, j] for j in row[1:]), reverse=True)
        np.testing.assert_allclose(chosen, others, atol=1e-5)


def test_conaff_indices_match_reference_exactly_without_ties():
    torch.manual_seed(3)
    feats = torch.randn(50, 8)
    _, ref_c = reference_conaff(feats, 10, 10, 2)
    nbrs = conaff_neighbors(feats, 10, 10, 2)
    for i in range(50):
        order = sorted((j for j in range(50) if j != i),
                       key=lambda j: -ref_c[i, j])
        assert nbrs[i].tolist() == [i] + order[:9]


def test_local_neighbors_are_cosine_knn():
    torch.manual_seed(0)
    feats = torch.randn(30, 5) * torch.rand(30, 1) * 10  # scale-invariant
    nbrs = local_neighbors(feats, 6)
    z = feats / feats.norm(dim=1, keepdim=True)
    for i in range(30):
        sims = [(float(z[i] @ z[j]), j) for j in range(30) if j != i]
        expected = [i] + [j for _, j in sorted(sims, reverse=True)[:5]]
        assert nbrs[i].tolist() == expected


def test_input_dtype_and_scale_do_not_matter():
    torch.manual_seed(1)
    feats = torch.randn(64, 16)
    base = conaff_neighbors(feats, 10, 10, 2)
    assert torch.equal(conaff_neighbors(feats.double() * 7.0, 10, 10, 2),
                       base)
    assert torch.equal(conaff_neighbors(feats.half().float(), 10, 10, 2)[:, 0],
                       torch.arange(64))


@pytest.mark.parametrize('k,k1,k2', [(10, 10, 2), (20, 30, 10)])
def test_conaff_purer_than_local_on_real_digits(k, k1, k2):
    """Paper Fig. 2: ConAff neighbourhoods hold more same-class samples than
    cosine k-NN, here on batches of 256 real digits (raw pixels)."""
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32)
    y = torch.tensor(digits.target)
    gen = torch.Generator().manual_seed(0)
    local, conaff = [], []
    for _ in range(5):
        idx = torch.randperm(len(x), generator=gen)[:256]
        feats, labels = x[idx], y[idx]
        for fn, out in ((lambda f: local_neighbors(f, k), local),
                        (lambda f: conaff_neighbors(f, k, k1, k2), conaff)):
            nbrs = fn(feats)[:, 1:]
            out.append((labels[nbrs] == labels[:, None]).float().mean())
    local, conaff = torch.stack(local), torch.stack(conaff)
    assert (conaff > local).all(), (local, conaff)
    assert conaff.mean() > local.mean() + 0.02


@pytest.mark.parametrize('kwargs,match', [
    (dict(k=11, k1=10, k2=2), 'k=11 is larger than the'),
    (dict(k=5, k1=11, k2=2), 'k1=11 is larger than the'),
    (dict(k=5, k1=5, k2=6), 'k2=6 must not exceed k1=5'),
    (dict(k=0, k1=5, k2=2), 'k must be a positive integer, got 0'),
])
def test_conaff_argument_errors_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conaff_neighbors(torch.randn(10, 4), **kwargs)


def test_nan_features_are_rejected():
    feats = torch.randn(12, 4)
    feats[3, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN or inf'):
        local_neighbors(feats, 3)


def test_registered_modules_wrap_the_functions():
    torch.manual_seed(2)
    feats = torch.randn(40, 6)
    assert torch.equal(
        ConAffNeighborhood(k=8, k1=10, k2=3)(feats),
        conaff_neighbors(feats, 8, 10, 3))
    assert torch.equal(LocalNeighborhood(k=7)(feats), local_neighbors(feats, 7))
    assert ConAffNeighborhood(k=20, k1=30, k2=10).min_batch_size == 30
    with pytest.raises(ValueError, match='k2=4 must not exceed k1=3'):
        ConAffNeighborhood(k=3, k1=3, k2=4)
