"""Choosing K: on data with a known K the rule finds it; the scores are
those scikit-learn and a plain loop give for the same runs."""
import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, silhouette_score

from mmconr.clustering import kmeans
from mmconr.clustering.k_selection import (KScore, choose_num_clusters,
                                           k_values, parse_k_range,
                                           score_num_clusters)


def sphere_blobs(k, dim, per, noise, seed):
    rng = np.random.RandomState(seed)
    centres = rng.randn(k, dim)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.repeat(centres, per, 0) + noise * rng.randn(k * per, dim)
    return x.astype(np.float32)


@pytest.mark.parametrize('k, dim, noise', [(3, 8, 0.2), (6, 16, 0.15)])
def test_known_k_is_found(k, dim, noise):
    x = sphere_blobs(k, dim, 60, noise, seed=k)
    scores = score_num_clusters(x, k_values((2, 10), len(x)))
    chosen, reason = choose_num_clusters(scores)
    assert chosen == k, reason
    assert reason.startswith(f'K={k}:') and 'agree across seeds' in reason


def test_scores_equal_sklearn_and_a_loop():
    x = sphere_blobs(4, 8, 30, 0.3, seed=1)
    scores = score_num_clusters(x, [3, 4], seeds=(0, 1, 2), sample_size=80)
    z = x / np.linalg.norm(x, axis=1, keepdims=True)
    sample = np.sort(np.random.RandomState(0).permutation(len(z))[:80])
    for score in scores:
        runs = []
        for seed in (0, 1, 2):
            c, labels = kmeans(torch.from_numpy(z), score.k, n_init=1,
                               max_iter=100, seed=seed, spherical=True)
            c, labels = c.numpy(), labels.numpy()
            inertia = sum(float(((z[i] - c[labels[i]])**2).sum())
                          for i in range(len(z)))
            runs.append((inertia, labels))
        inertia, best = min(runs, key=lambda r: r[0])
        assert score.inertia == pytest.approx(inertia, rel=1e-4)
        aris = [adjusted_rand_score(runs[a][1], runs[b][1])
                for a, b in ((0, 1), (0, 2), (1, 2))]
        assert score.stability == pytest.approx(np.mean(aris))
        assert score.silhouette == pytest.approx(
            silhouette_score(z[sample], best[sample]), abs=1e-5)


def test_rule_prefers_stable_k_and_says_when_none_is():
    scores = [KScore(2, 0.5, 10., 0.5), KScore(3, 0.4, 8., 0.95),
              KScore(4, 0.3, 7., 0.9)]
    chosen, reason = choose_num_clusters(scores)
    assert chosen == 3  # K=2 scores higher but is unstable
    unstable = [s._replace(stability=0.1) for s in scores]
    chosen, reason = choose_num_clusters(unstable)
    assert chosen == 2 and 'no K was stable' in reason


def test_rule_keeps_the_finer_of_near_equal_silhouettes():
    """The digits demo's case: K=8 0.7875, K=10 0.7849 (both stable)."""
    scores = [KScore(7, 0.7597, 69.9, 0.79), KScore(8, 0.7875, 46.5, 1.0),
              KScore(9, 0.7764, 30.4, 0.89), KScore(10, 0.7849, 17.3, 0.93),
              KScore(11, 0.7649, 16.6, 0.97)]
    chosen, reason = choose_num_clusters(scores)
    assert chosen == 10 and 'within 0.01 of the highest (0.7875)' in reason
    assert choose_num_clusters(scores, tolerance=0.0)[0] == 8
    assert choose_num_clusters(scores, tolerance=0.05)[0] == 11


def test_range_parsing_and_limits():
    assert parse_k_range('2:30') == (2, 30)
    for bad in ('5', '1:4', '6:3', 'a:b'):
        with pytest.raises(ValueError, match='k-range'):
            parse_k_range(bad)
    assert k_values((2, 30), 6) == [2, 3, 4, 5]
    with pytest.raises(ValueError, match='too few to choose K'):
        k_values((5, 8), 5)
