"""The neighbourhood-size rule: k against the B / K samples of a cluster
in a batch."""
import pytest

from mmconr.models.neighborhoods.sizing import (MAX_SHARE,
                                                neighborhood_size_problem,
                                                suggest_neighborhood)


@pytest.mark.parametrize('batch', [2, 8, 32, 64, 100, 128, 256, 512, 4096])
@pytest.mark.parametrize('num_clusters', [2, 3, 10, 20, 30, 200])
def test_suggested_k_is_the_largest_allowed_one(batch, num_clusters):
    share = batch / num_clusters
    got = suggest_neighborhood(batch, num_clusters)
    # the rule written out: the largest k in 1..10 with k <= 0.75 B / K,
    # and 1 when none is
    allowed = [k for k in range(1, 11) if k <= MAX_SHARE * share]
    assert got['k'] == (max(allowed) if allowed else 1)
    assert got['k1'] == min(got['k'] + 1, 10, batch)
    assert got['k2'] == min(2 if got['k1'] >= 4 else 1, got['k1'])
    if allowed:
        assert neighborhood_size_problem(got['k'], batch,
                                         num_clusters) is None
    for k in range(1, 12):
        problem = neighborhood_size_problem(k, batch, num_clusters)
        assert (problem is None) == (k <= MAX_SHARE * share)


def test_paper_and_demo_settings():
    assert suggest_neighborhood(512, 10) == dict(k=10, k1=10, k2=2)
    assert suggest_neighborhood(64, 10) == dict(k=4, k1=5, k2=2)
    message = neighborhood_size_problem(10, 64, 10)
    for part in ('k=10', 'B=64', 'K=10', '6.4', 'k <= 4', '4/5/2',
                 'at least 134'):
        assert part in message
    with pytest.raises(ValueError, match='num_clusters must be a positive'):
        suggest_neighborhood(64, 0)


def test_the_batch_that_allows_k_is_the_smallest_one():
    from mmconr.models.neighborhoods.sizing import batch_for_k, largest_k
    for share in (0.75, 0.7, 0.5, 1.0):
        for k, num_clusters in ((1, 10), (3, 21), (10, 10), (10, 200)):
            batch = batch_for_k(k, num_clusters, share)
            assert largest_k(batch, num_clusters, share) >= k
            assert largest_k(batch - 1, num_clusters, share) < k
    # no k fits: the message says which batch would allow one
    message = neighborhood_size_problem(10, 256, 200)
    assert 'Not even k=1' in message and 'at least 267 allows k=1' in message
    assert suggest_neighborhood(256, 200)['k'] == 1
