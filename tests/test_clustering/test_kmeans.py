import re

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits, make_blobs

from mmconr.clustering import kmeans


def test_kmeans_uses_every_point_and_matches_sklearn_quality():
    # 3000 points, K = 3: every point takes part (faiss subsampled to 256
    # per centroid by default).
    x, _ = make_blobs(3000, n_features=8, centers=3, cluster_std=3.0,
                      random_state=0)
    x = x.astype(np.float32)
    centroids, labels = kmeans(x, 3, n_init=3, max_iter=100, seed=0,
                               spherical=False)
    assert centroids.shape == (3, 8) and labels.shape == (3000, )
    # Lloyd fixed point over *all* points: each centroid is its cluster mean
    for c in range(3):
        np.testing.assert_allclose(
            centroids[c].numpy(), x[labels.numpy() == c].mean(0), atol=1e-3)
    inertia = ((x - centroids.numpy()[labels.numpy()])**2).sum()
    ref = KMeans(3, n_init=3, random_state=0).fit(x).inertia_
    assert inertia <= ref * 1.005


def test_spherical_kmeans_on_digits():
    x = load_digits().data.astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    centroids, labels = kmeans(x, 10, n_init=2, seed=1)
    np.testing.assert_allclose(centroids.norm(dim=1).numpy(), 1.0, atol=1e-4)
    # every point sits at its nearest centroid
    sims = torch.from_numpy(x) @ centroids.t()
    assert torch.equal(sims.argmax(1), labels)


def test_kmeans_errors():
    with pytest.raises(ValueError, match='num_clusters=5 is larger than'):
        kmeans(np.zeros((4, 2), np.float32), 5)
    bad = np.ones((10, 2), np.float32)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match='NaN or inf'):
        kmeans(bad, 2)


def mixture(n, dim, k, seed=0, scale=2.0):
    """L2-normalised Gaussian mixture whose k-means optimum is found from
    (almost) every k-means++ seeding (with scale=1 the runs of either
    implementation scatter over local optima a few percent apart)."""
    rng = np.random.default_rng(seed)
    centres = scale * rng.standard_normal((k, dim))
    x = centres[rng.integers(0, k, n)] + rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_kmeans_follows_sklearn_seed_for_seed():
    """Same k-means++ random stream as scikit-learn: seed s ends in the
    optimum of ``KMeans(random_state=s)`` (here local optima of this
    mixture lie a few percent apart)."""
    x = mixture(4000, 32, 20, scale=1.0)
    for seed in range(3):
        centroids, labels = kmeans(x, 20, seed=seed, spherical=False,
                                   max_iter=300, init_size=None)
        d = ((x[:, None] - centroids.numpy()[None])**2).sum(-1)
        # labels are the nearest centres of the returned centroids
        assert (d.argmin(1) == labels.numpy()).mean() > 0.999
        ref = KMeans(20, n_init=1, random_state=seed).fit(x)
        assert float(d.min(1).sum()) == pytest.approx(
            ref.inertia_, rel=1e-5)


def test_kmeans_subsampled_seeding_keeps_sklearn_quality():
    x = mixture(4000, 32, 20, scale=2.0)
    centroids, labels = kmeans(x, 20, n_init=5, seed=0, spherical=False,
                               max_iter=300, init_size=800)
    inertia = float(((x - centroids.numpy()[labels.numpy()])**2).sum())
    ref = KMeans(20, n_init=5, random_state=0).fit(x).inertia_
    assert inertia <= ref * 1.005


def test_kmeans_keeps_the_best_of_n_init_runs():
    """n_init keeps the run of lowest inertia, also for spherical k-means
    (the faiss version ranked spherical runs by their summed inner
    products, lowest first, and so kept the worst run)."""
    x = load_digits().data.astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)

    def inertia(c, lab):
        return float(((x - c.numpy()[lab.numpy()])**2).sum())

    runs = [inertia(*kmeans(x, 10, seed=s, tol=0)) for s in range(3)]
    assert inertia(*kmeans(x, 10, n_init=3, seed=0, tol=0)) == \
        pytest.approx(min(runs))


def test_kmeans_relocates_empty_clusters():
    import importlib
    km = importlib.import_module('mmconr.clustering.kmeans')
    x = torch.tensor([[0.], [0.1], [1.], [1.1], [5.], [5.1]])
    # the second centre is never nearest: it is moved to the farthest point
    from mmconr.clustering.shards import LocalShards
    centroids, labels, _ = km._lloyd(LocalShards(x),
                                     torch.tensor([[0.], [-9.], [1.]]),
                                     max_iter=20, tol=0., spherical=False)
    assert sorted(centroids.flatten().tolist()) == pytest.approx(
        [0.05, 1.05, 5.05])
    assert len(set(labels.tolist())) == 3


def test_kmeans_argument_errors_name_the_value():
    x = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    with pytest.raises(ValueError, match='tol must be >= 0, got -1'):
        kmeans(x, 2, tol=-1)
    with pytest.raises(ValueError, match='init_size must be a positive '
                       "integer, 'auto' or None, got 0"):
        kmeans(x, 2, init_size=0)
    with pytest.raises(ValueError, match=re.escape(
            "init must be 'k-means++' or 'random', got 'x'")):
        kmeans(x, 2, init='x')


def test_kmeans_mean_centroids_are_the_cluster_means():
    """centroids='mean' (the official k-means' centres, used by its
    boundary ratio): the plain means of each cluster's L2-normalised
    points; the labels are those of the unit-norm centres."""
    x = torch.from_numpy(load_digits().data[:300]).float()
    kw = dict(n_init=2, max_iter=30, seed=0, normalize=True)
    unit, labels = kmeans(x, 10, **kw)
    means, labels_m = kmeans(x, 10, centroids='mean', **kw)
    assert torch.equal(labels, labels_m)
    z = torch.nn.functional.normalize(x, dim=1)
    for c in range(10):
        torch.testing.assert_close(means[c], z[labels == c].mean(0))
    torch.testing.assert_close(unit.norm(dim=1), torch.ones(10))
    assert (means.norm(dim=1) < 1).all()
    with pytest.raises(ValueError, match="centroids must be 'normalized'"):
        kmeans(x, 10, centroids='median')


def test_empty_kmeans_cluster_from_collapsed_features():
    feats = torch.zeros(50, 8)
    feats[:, 0] = 1
    feats[25:, 1] = 1  # two distinct vectors, K = 4
    with pytest.warns(UserWarning, match='Only 2 distinct feature vectors '
                      'among 50 for num_clusters=4: the features have '
                      'collapsed'):
        _, labels = kmeans(feats, 4, normalize=True)
    assert torch.bincount(labels, minlength=4).min() >= 1


def test_empty_kmeans_cluster_is_filled():
    """Two tight groups and K = 4 with centroids that leave two clusters
    empty: each empty cluster gets the point farthest from its centroid."""
    from mmconr.clustering import fill_empty_clusters
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, .01, (10, 2)),
                        rng.normal(5, .01, (10, 2))]).astype(np.float32)
    centroids = np.array([[0, 0], [5, 5], [50, 50], [-50, 50]], np.float32)
    d = ((x[:, None] - centroids[None]) ** 2).sum(-1)
    labels, sq = d.argmin(1), d.min(1)
    far = np.argsort(-sq)[:2]
    with pytest.warns(UserWarning, match='left 2 of 4 clusters empty'):
        fill_empty_clusters(x, centroids, labels, sq)
    assert np.bincount(labels, minlength=4).min() >= 1
    assert sorted(labels[far]) == [2, 3]
    np.testing.assert_array_equal(centroids[2:], x[far])


def test_tol_stops_lloyd_as_scikit_learn():
    """A tolerance above the first centre shift stops after one Lloyd step:
    the result is that of max_iter=1; tol=0 runs on to the fixed point."""
    x = mixture(600, 8, 5, seed=3, scale=0.5)
    one = kmeans(x, 5, n_init=1, max_iter=1, seed=0, tol=0.0)
    early = kmeans(x, 5, n_init=1, max_iter=300, seed=0, tol=1e6)
    full = kmeans(x, 5, n_init=1, max_iter=300, seed=0, tol=0.0)
    assert torch.equal(early[1], one[1])
    assert torch.allclose(early[0], one[0])
    assert not torch.equal(full[1], one[1])
