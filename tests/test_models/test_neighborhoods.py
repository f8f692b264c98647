import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from mmconr.models.neighborhoods import (ConAffNeighborhood, LocalNeighborhood,
                                         conaff_affinity, conaff_neighbors,
                                         local_neighbors)


def reference_conaff(feats, k, k1, k2, num_layers=2):
    """docs/method.md §1 written as loops over samples, in float64."""
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
    assert torch.equal(
        LocalNeighborhood(k=7)(feats), local_neighbors(feats, 7))
    assert ConAffNeighborhood(k=20, k1=30, k2=10).min_batch_size == 30
    with pytest.raises(ValueError, match='k2=4 must not exceed k1=3'):
        ConAffNeighborhood(k=3, k1=3, k2=4)


def dense_reference_neighbors(feats, k, k1, k2, num_layers=2):
    """docs/method.md §1 on dense (B, B) tensors, written independently of the
    library, with equal contextual similarities ranked by index."""
    z = feats.double()
    z = z / z.norm(dim=1, keepdim=True)
    n = z.shape[0]
    sim = z @ z.t()
    sim.fill_diagonal_(float('inf'))
    _, ranks = torch.sort(sim, dim=1, descending=True, stable=True)
    ranks = ranks[:, :k1]
    sims = torch.gather(z @ z.t(), 1, ranks)
    sims[:, 0] = 1.0
    weights = sims**2
    a = torch.zeros(n, n, dtype=torch.float64)
    a[torch.arange(n)[:, None], ranks] = 1.0
    if k2 > 1:
        for _ in range(num_layers):
            sym = a + a.t()
            a = sum(weights[:, j:j + 1] * sym[ranks[:, j]] for j in range(k2))
            a = a / a.norm(dim=1, keepdim=True)
    ctx = a @ a.t()
    ctx.fill_diagonal_(float('inf'))
    return torch.sort(ctx, dim=1, descending=True, stable=True)[1][:, :k]


@pytest.mark.parametrize('n,k,k1,k2,dim', [
    (40, 10, 10, 2, 8), (97, 5, 8, 1, 6), (300, 10, 10, 2, 32),
    (300, 20, 30, 10, 32), (333, 10, 10, 1, 16), (250, 4, 6, 3, 8),
    (1200, 10, 10, 2, 64), (700, 20, 30, 10, 64)
])
def test_sparse_conaff_equals_dense_reference(n, k, k1, k2, dim):
    """The sparse rows (any batch size) give exactly the neighbours of the
    dense formulation on tie-free data (Gaussian features), exact ties
    (k2 = 1: integer counts) included. In very low dimensions the exact
    contextual similarities can tie structurally and float rounding then
    decides, hence dim >= 6 here."""
    torch.manual_seed(n + k2)
    feats = torch.randn(n, dim)
    expected = dense_reference_neighbors(feats, k, k1, k2)
    for method in ('sparse', 'dense', 'auto'):
        assert torch.equal(conaff_neighbors(feats, k, k1, k2, method=method),
                           expected), method


def test_sparse_conaff_matches_on_real_digits():
    digits = torch.tensor(load_digits().data, dtype=torch.float32)
    for k, k1, k2 in ((10, 10, 2), (20, 30, 10), (10, 10, 1)):
        expected = dense_reference_neighbors(digits, k, k1, k2)
        got = conaff_neighbors(digits, k, k1, k2, method='sparse')
        assert torch.equal(got, expected), (k, k1, k2)


def test_rows_with_fewer_than_k_candidates_take_lowest_indices():
    """Far-apart groups of 4: C is zero outside the group, so the last
    k - 4 places go to the lowest-index other samples (as dense top-k with
    index tie-break)."""
    torch.manual_seed(0)
    basis = torch.eye(8)
    feats = basis.repeat_interleave(4, 0) + 0.01 * torch.randn(32, 8)
    for k2 in (1, 2, 4):
        expected = dense_reference_neighbors(feats, 7, 4, k2)
        for method in ('sparse', 'dense'):
            nbrs = conaff_neighbors(feats, 7, 4, k2, method=method)
            assert torch.equal(nbrs, expected), (k2, method)
        group = torch.arange(32) // 4
        assert (group[nbrs[:, :4]] == group[:, None]).all()
        fill = nbrs[4:8, 4:]  # group 1: fill from samples 0, 1, 2
        assert fill.tolist() == [[0, 1, 2]] * 4


@pytest.mark.parametrize('dense_share,spgemm_cost', [
    (float('inf'), 80), (0., 80), (float('inf'), float('inf'))])
@pytest.mark.parametrize('k,k1,k2', [(10, 10, 2), (10, 30, 10)])
def test_sparse_code_paths_give_the_same_neighbours(monkeypatch, dense_share,
                                                    spgemm_cost, k, k1, k2):
    """Rows kept sparse in every layer / switched to dense rows at once /
    C by dense GEMM of the sparse rows, with the SMMP chunks on two
    threads."""
    from mmconr.models import sparse_affinity
    monkeypatch.setattr(sparse_affinity, 'DENSE_SHARE', dense_share)
    monkeypatch.setattr(sparse_affinity, 'SPGEMM_COST', spgemm_cost)
    monkeypatch.setattr(sparse_affinity, 'CHUNK_ELEMS', 200 * 37)
    torch.manual_seed(5)
    feats = torch.randn(200, 16)
    expected = dense_reference_neighbors(feats, k, k1, k2)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        got = conaff_neighbors(feats, k, k1, k2, method='sparse')
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(got, expected)
    assert torch.get_num_threads() == threads


def test_spgemm_cost_counts_scalar_products():
    import scipy.sparse as sp

    from mmconr.models.sparse_affinity import spgemm_cost
    dense = (torch.rand(30, 30) < 0.2).float()
    products = sum(
        int(dense[i, t] * dense[j, t]) for i in range(30)
        for j in range(30) for t in range(30))
    assert spgemm_cost(sp.csr_matrix(dense.numpy())) == products


def test_method_argument_is_checked():
    with pytest.raises(ValueError, match="got 'fast'"):
        conaff_neighbors(torch.randn(10, 4), 3, 3, 2, method='fast')
    with pytest.raises(ValueError, match="got 'fast'"):
        ConAffNeighborhood(method='fast')
