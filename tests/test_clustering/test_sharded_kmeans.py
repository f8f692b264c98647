"""k-means over shards of the rows (1, 2 and 4 gloo processes) equals
k-means of all rows in one process: the same labels, the same centroids
up to float rounding (sums over ranks add in another order). With all rows
on every rank and the n_init runs spread over the ranks, the result is the
one-process result exactly."""
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from mmconr.clustering import kmeans
from tests import kmeans_worker


@pytest.fixture(scope='module')
def reference():
    out = {}
    for name, x, k, cfg in kmeans_worker.cases():
        out[name] = kmeans(x, k, **cfg)
    for name, x, k, cfg in kmeans_worker.spread_cases():
        out['spread_' + name] = kmeans(x, k, **cfg)
    return out


@pytest.mark.parametrize('world', [2, 4])
def test_sharded_equals_one_process(world, reference, tmp_path):
    mp.spawn(kmeans_worker.run,
             args=(world, str(tmp_path / 'init'), str(tmp_path)),
             nprocs=world, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
             for r in range(world)]
    for name, x, k, _ in kmeans_worker.cases():
        ref_centroids, ref_labels = reference[name]
        labels = torch.cat([r[name][1] for r in ranks])
        assert torch.equal(labels, ref_labels), name
        for r in ranks:  # the same centroids on every rank
            assert torch.equal(r[name][0], ranks[0][name][0]), name
        np.testing.assert_allclose(ranks[0][name][0], ref_centroids,
                                   atol=2e-6, err_msg=name)
        # each rank labelled its own block
        sizes = [r[name][1].numel() for r in ranks]
        assert sizes == [len(range(len(x))[kmeans_worker.block(
            len(x), world, i)]) for i in range(world)]
    assert all('does not combine with sharded=True' in r['refused']
               for r in ranks)
    # n_init runs spread over the ranks: the one-process result, exactly
    for name, *_ in kmeans_worker.spread_cases():
        for r in ranks:
            centroids, labels = r['spread_' + name]
            assert torch.equal(centroids, reference['spread_' + name][0])
            assert torch.equal(labels, reference['spread_' + name][1])


def test_one_process_is_plain_kmeans(reference):
    # outside a process group, sharded=True is the plain k-means
    for name, x, k, cfg in kmeans_worker.cases()[:2]:
        c, labels = kmeans(x, k, sharded=True, **cfg)
        assert torch.equal(c, reference[name][0])
        assert torch.equal(labels, reference[name][1])
