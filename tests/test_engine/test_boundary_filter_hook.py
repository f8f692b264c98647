"""BoundaryFilterHook: when the feature pass and k-means run."""
import pytest
import torch
from torch.utils.data import DataLoader

from tests.test_clustering.test_features import (EmbedModel, FeatureDataset,
                                                 collate)


class BoundaryModel(EmbedModel):
    """EmbedModel that records the boundary state handed to it."""

    def __init__(self):
        super().__init__()
        self.states = []

    def set_boundary_state(self, centroids, labels, fraction):
        self.states.append((centroids.clone(), labels.clone(), fraction))


def test_boundary_filter_interval_reuses_kmeans_between_passes():
    from types import SimpleNamespace

    from mmengine.logging import MMLogger

    from mmconr.engine.hooks import BoundaryFilterHook
    hook = BoundaryFilterHook(
        dataloader=dict(), num_clusters=2, start_epoch=1, end_epoch=5,
        start_fraction=0.6, interval=2)
    hook._dataloader = DataLoader(FeatureDataset(12), batch_size=5,
                                  collate_fn=collate)
    model = BoundaryModel()
    runner = SimpleNamespace(
        model=model, logger=MMLogger.get_instance('test_interval'),
        visualizer=SimpleNamespace(add_scalars=lambda *a, **k: None))
    passes = []
    for epoch in range(6):
        runner.epoch = epoch
        before = len(model.modes)
        hook.before_train_epoch(runner)
        passes.append(len(model.modes) > before)
    assert passes == [False, True, False, True, False, True]
    fractions = [state[2] for state in model.states]
    assert fractions == pytest.approx([0.6, 0.7, 0.8, 0.9, 1.0])
    # reused epochs get the centroids and labels of the pass before
    assert torch.equal(model.states[1][0], model.states[0][0])
    assert torch.equal(model.states[3][1], model.states[2][1])
    assert hook.state['epoch'] == 5 and hook.state['fraction'] == 1.0
    # a checkpoint's state older than the interval is recomputed
    hook.state['epoch'] = 1
    runner.epoch = 4
    before = len(model.modes)
    hook.before_train_epoch(runner)
    assert len(model.modes) > before
    with pytest.raises(ValueError, match='interval must be a positive '
                       'integer, got 0'):
        BoundaryFilterHook(dataloader=dict(), num_clusters=2,
                           start_epoch=0, interval=0)


def test_features_option_is_checked():
    from mmconr.engine.hooks import BoundaryFilterHook
    args = dict(dataloader=dict(), num_clusters=2, start_epoch=1)
    assert BoundaryFilterHook(**args, features='train_views').features == \
        'train_views'
    with pytest.raises(ValueError, match='does not combine with '
                       'sharded_kmeans'):
        BoundaryFilterHook(**args, features='train_views',
                           sharded_kmeans=True)
    # another string names a config key, checked when the run starts
    hook = BoundaryFilterHook(**args, features='boundary_features')
    with pytest.raises(ValueError, match="features must be one of"):
        hook.features = 'test_views'
        hook._configure(allow_keys=False)
