import pytest
import scipy.sparse as sp
import torch

from mmconr.models.neighborhoods import conaff_neighbors, sparse, topk
from tests.test_models.test_neighborhoods.reference import \
    dense_reference_neighbors


@pytest.mark.parametrize('dense_share,spgemm_cost', [
    (float('inf'), 80), (0., 80), (float('inf'), float('inf'))])
@pytest.mark.parametrize('k,k1,k2', [(10, 10, 2), (10, 30, 10)])
def test_sparse_code_paths_give_the_same_neighbours(monkeypatch, dense_share,
                                                    spgemm_cost, k, k1, k2):
    """Rows kept sparse in every layer / switched to dense rows at once /
    C by dense GEMM of the sparse rows, with the SMMP chunks on two
    threads."""
    monkeypatch.setattr(sparse, 'DENSE_SHARE', dense_share)
    monkeypatch.setattr(sparse, 'SPGEMM_COST', spgemm_cost)
    monkeypatch.setattr(topk, 'CHUNK_ELEMS', 200 * 37)
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
    dense = (torch.rand(30, 30) < 0.2).float()
    products = sum(
        int(dense[i, t] * dense[j, t]) for i in range(30)
        for j in range(30) for t in range(30))
    assert sparse.spgemm_cost(sp.csr_matrix(dense.numpy())) == products
