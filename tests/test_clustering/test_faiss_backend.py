"""kmeans(backend='faiss'): the interface, checks and post-processing of
the PyTorch backend; faiss' own seeding. The tests that run faiss are
skipped where it is not installed (pip install faiss-cpu)."""
import importlib

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score

from mmconr.clustering import kmeans
from mmconr.clustering.faiss_backend import faiss_available

needs_faiss = pytest.mark.skipif(
    not faiss_available(), reason='faiss is not installed (pip install '
    'faiss-cpu); the faiss backend is optional')


def blobs(n=2000, dim=16, k=5, seed=0):
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((k, dim))
    y = rng.integers(0, k, n)
    x = centres[y] + rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(
        np.float32), y


@needs_faiss
def test_faiss_finds_the_torch_partition_with_the_same_interface():
    x, y = blobs()
    c_t, l_t = kmeans(x, 5, n_init=5, max_iter=100)
    c_f, l_f = kmeans(x, 5, n_init=5, max_iter=100, backend='faiss')
    assert c_f.shape == (5, 16) and c_f.dtype == torch.float32
    assert l_f.shape == (2000, ) and l_f.dtype == torch.int64
    assert adjusted_rand_score(l_t, l_f) == pytest.approx(1.0)
    assert adjusted_rand_score(y, l_f) == pytest.approx(1.0)
    # spherical: unit centres, every point at its nearest centre
    np.testing.assert_allclose(c_f.norm(dim=1), 1.0, atol=1e-5)
    d = torch.cdist(torch.from_numpy(x), c_f)
    assert torch.equal(d.argmin(1), l_f)
    # mean centroids are the cluster means
    c_m, l_m = kmeans(x, 5, n_init=5, backend='faiss', centroids='mean')
    for c in range(5):
        np.testing.assert_allclose(c_m[c], x[l_m.numpy() == c].mean(0),
                                   atol=1e-5)


@needs_faiss
def test_faiss_seeds_and_empty_clusters():
    x, _ = blobs(500, 8, 3, seed=1)
    a = kmeans(x, 3, seed=2, backend='faiss')
    b = kmeans(x, 3, seed=2, backend='faiss')
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    # four distinct points, five clusters: one is refilled, with a warning
    points = np.repeat(np.eye(4, 3, dtype=np.float32), 10, axis=0)
    with pytest.warns(UserWarning, match='clusters empty'):
        _, labels = kmeans(points, 5, spherical=False, backend='faiss')
    assert set(labels.tolist()) == set(range(5))


def test_backends_check_the_same_input(monkeypatch):
    bad = np.ones((10, 2), np.float32)
    bad[0, 0] = np.nan
    for backend in ('torch', 'faiss', 'auto'):
        with pytest.raises(ValueError, match='NaN or inf'):
            kmeans(bad, 2, backend=backend)
        with pytest.raises(ValueError, match='num_clusters=11 is larger'):
            kmeans(np.zeros((10, 2), np.float32), 11, backend=backend)
    with pytest.raises(ValueError, match="backend must be one of"):
        kmeans(np.zeros((10, 2), np.float32), 2, backend='sklearn')
    # over ranks (sharded or spread runs) 'auto' is the PyTorch k-means
    from mmconr.clustering.kmeans import resolve_backend
    assert resolve_backend('auto', distributed=True) == 'torch'
    assert resolve_backend('auto') == ('faiss' if faiss_available()
                                       else 'torch')
    # without faiss: 'faiss' says how to get it, 'auto' is the torch one
    kmeans_module = importlib.import_module('mmconr.clustering.kmeans')
    monkeypatch.setattr(kmeans_module, 'faiss_available', lambda: False)
    import mmconr.clustering.faiss_backend as fb
    monkeypatch.setattr(fb, 'faiss_available', lambda: False)
    x, _ = blobs(300, 4, 3)
    with pytest.raises(ImportError, match='pip install -U faiss-cpu'):
        kmeans(x, 3, backend='faiss')
    assert torch.equal(kmeans(x, 3, backend='auto')[1],
                       kmeans(x, 3, backend='torch')[1])
