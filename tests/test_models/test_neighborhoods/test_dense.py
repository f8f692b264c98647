import numpy as np
import pytest
import torch

from mmconr.models.neighborhoods import (conaff_affinity, conaff_neighbors,
                                         local_neighbors)
from tests.test_models.test_neighborhoods.reference import reference_conaff


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


def test_local_neighbors_are_cosine_knn():
    torch.manual_seed(0)
    feats = torch.randn(30, 5) * torch.rand(30, 1) * 10  # scale-invariant
    nbrs = local_neighbors(feats, 6)
    z = feats / feats.norm(dim=1, keepdim=True)
    for i in range(30):
        sims = [(float(z[i] @ z[j]), j) for j in range(30) if j != i]
        expected = [i] + [j for _, j in sorted(sims, reverse=True)[:5]]
        assert nbrs[i].tolist() == expected


def test_nan_features_are_rejected():
    feats = torch.randn(12, 4)
    feats[3, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN or inf'):
        local_neighbors(feats, 3)
