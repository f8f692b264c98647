import pytest
import torch
from sklearn.datasets import load_digits

from mmconr.models.neighborhoods import conaff_neighbors, local_neighbors
from tests.test_models.test_neighborhoods.reference import (
    dense_reference_neighbors, reference_conaff)


def test_conaff_indices_match_reference_exactly_without_ties():
    torch.manual_seed(3)
    feats = torch.randn(50, 8)
    _, ref_c = reference_conaff(feats, 10, 10, 2)
    nbrs = conaff_neighbors(feats, 10, 10, 2)
    for i in range(50):
        order = sorted((j for j in range(50) if j != i),
                       key=lambda j: -ref_c[i, j])
        assert nbrs[i].tolist() == [i] + order[:9]


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
