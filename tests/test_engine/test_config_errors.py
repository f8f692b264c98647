"""A run with bad settings stops before any training with a message that
names the setting (the neighbourhood against the global batch, K against
the data and its classes, the kept fraction)."""

import pytest

from mmconr.engine import BoundaryFilterHook
from mmconr.evaluation import ClusteringMetric
from tests.tiny_runs import assert_nothing_trained, tiny_cfg, train


@pytest.mark.parametrize('key,value,match', [
    ('model.neighborhood.k', 24,
     r'global batch size 20 .* smaller than the neighbourhood'),
    ('model.neighborhood.k1', 30,
     r'global batch size 20 .* smaller than the neighbourhood'),
])
def test_neighbourhood_larger_than_global_batch(tmp_path, key, value, match):
    cfg = tiny_cfg(tmp_path, **{key: value})
    with pytest.raises(ValueError, match=match):
        train(cfg)
    assert_nothing_trained(tmp_path)


def test_k2_larger_than_k1_is_refused_when_building(tmp_path):
    cfg = tiny_cfg(tmp_path, **{'model.neighborhood.k1': 10,
                                'model.neighborhood.k2': 12})
    with pytest.raises(ValueError, match='k2=12 must not exceed k1=10'):
        train(cfg)


@pytest.mark.parametrize('fraction', [0.0, -0.5, 1.5, float('nan')])
def test_fraction_outside_unit_interval(fraction):
    with pytest.raises(ValueError, match=f'got {fraction}'):
        BoundaryFilterHook(dataloader='feature_dataloader', num_clusters=10,
                           start_epoch=2, end_epoch=3,
                           start_fraction=fraction)


def test_num_clusters_larger_than_the_dataset(tmp_path):
    cfg = tiny_cfg(tmp_path, num_clusters=100)
    cfg.custom_hooks[1].num_clusters = 100
    cfg.val_evaluator.num_clusters = 100
    cfg.val_evaluator.match_classes = False
    with pytest.raises(ValueError,
                       match='num_clusters=100 is larger than the 64'):
        train(cfg)
    assert_nothing_trained(tmp_path)


def test_num_clusters_not_matching_the_labels(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks[1].num_clusters = 7
    with pytest.raises(ValueError, match='BoundaryFilterHook: num_clusters=7 '
                       'does not match the 10 classes of Digits'):
        train(cfg)
    assert_nothing_trained(tmp_path)
    cfg = tiny_cfg(tmp_path)
    cfg.val_evaluator.num_clusters = 7
    with pytest.raises(ValueError, match='ClusteringMetric: num_clusters=7 '
                       'does not match the 10 classes'):
        train(cfg)
    assert_nothing_trained(tmp_path)
    metric = ClusteringMetric(num_clusters=7, match_classes=False)
    metric.dataset_meta = dict(classes=tuple('abcdefghij'))  # allowed


def test_last_batch_smaller_than_k_trains(tmp_path):
    """64 images, batch 20, drop_last=False: the last batch of 4 < k=10
    uses the instance loss (with a warning) instead of crashing."""
    cfg = tiny_cfg(tmp_path)
    cfg.train_dataloader.drop_last = False
    runner = train(cfg)
    assert runner.iter == 3 * 4
