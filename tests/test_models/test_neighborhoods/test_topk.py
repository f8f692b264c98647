import pytest
import torch

from mmconr.models.neighborhoods import cosine_knn, gram_topk, ordered_topk
from mmconr.models.neighborhoods import topk as topk_module


def stable_topk(values, k):
    """Reference: sort every row by (value descending, column ascending)."""
    out_v, out_i = [], []
    for row in values.tolist():
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]
        out_i.append(order)
        out_v.append([row[j] for j in order])
    return torch.tensor(out_v), torch.tensor(out_i)


@pytest.mark.parametrize('k', [1, 3, 5, 8])
def test_ordered_topk_breaks_ties_by_column(k):
    gen = torch.Generator().manual_seed(k)
    values = torch.randint(0, 4, (20, 8), generator=gen).float()  # ties
    vals, idx = ordered_topk(values, k)
    ref_v, ref_i = stable_topk(values, k)
    assert torch.equal(idx, ref_i)
    assert torch.equal(vals, ref_v)


def test_gram_topk_chunks_equal_one_product(monkeypatch):
    """Chunks of 7 rows (the transposed copies of earlier chunks included)
    give the rows of one full product, the row itself first."""
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(50, 6), dim=1)
    monkeypatch.setattr(topk_module, 'CHUNK_ELEMS', 7 * 50)
    assert topk_module.rows_per_chunk(50) == 7
    vals, idx = gram_topk(x, 5)
    sim = x @ x.t()
    sim.fill_diagonal_(float('inf'))
    ref_v, ref_i = stable_topk(sim, 5)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(vals[:, 1:], ref_v[:, 1:], atol=1e-6)
    sims, ranks = cosine_knn(x, 5)
    assert torch.equal(ranks, idx) and (sims[:, 0] == 1).all()


def test_ordered_topk_tie_order_holds_for_long_rows():
    """k = 150 of 300 columns of three values: long runs of ties, where an
    unstable sort would reorder equal values."""
    gen = torch.Generator().manual_seed(7)
    values = torch.randint(0, 3, (6, 300), generator=gen).float()
    vals, idx = ordered_topk(values, 150)
    ref_v, ref_i = stable_topk(values, 150)
    assert torch.equal(idx, ref_i) and torch.equal(vals, ref_v)
