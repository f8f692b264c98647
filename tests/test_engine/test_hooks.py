import pytest
import torch
from mmpretrain.structures import DataSample
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mmconr.engine import extract_dataset_features
from mmconr.engine.hooks.conaff_neck_hook import restart_workers, set_pipeline


class FeatureDataset(Dataset):

    def __init__(self, n=10):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        sample = DataSample().set_gt_label(idx % 3)
        sample.set_metainfo(dict(sample_idx=idx))
        return dict(inputs=torch.full((2, ), float(idx)), data_samples=sample)


def collate(batch):
    return dict(
        inputs=torch.stack([b['inputs'] for b in batch]),
        data_samples=[b['data_samples'] for b in batch])


class EmbedModel(nn.Module):
    """Feature of sample i is (i, 2i, 1); it records its mode."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.modes = []

    def data_preprocessor(self, data, training):
        return data

    def extract_target_feat(self, inputs):
        self.modes.append(self.training)
        x = inputs[:, 0]
        return torch.stack([x, 2 * x, torch.ones_like(x)], dim=1)


def test_features_by_index_with_padding_duplicates():
    dataset = FeatureDataset(10)
    # a padded, reordered visit: indices 3 and 7 appear twice
    order = [9, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 7]
    loader = DataLoader(dataset, batch_size=4, sampler=order,
                        collate_fn=collate)
    model = EmbedModel().train()
    feats, labels = extract_dataset_features(model, loader,
                                             show_progress=False)
    expected = torch.stack(
        [torch.tensor([i, 2. * i, 1.]) for i in range(10)])
    assert torch.allclose(feats, expected)
    assert labels.tolist() == [i % 3 for i in range(10)]
    assert model.modes and not any(model.modes), 'features in eval mode'
    assert model.training, 'training mode restored'


def test_missing_indices_are_an_error():
    loader = DataLoader(FeatureDataset(6), batch_size=2, sampler=[0, 1, 2],
                        collate_fn=collate)
    with pytest.raises(RuntimeError, match='3 dataset indices were never'):
        extract_dataset_features(EmbedModel(), loader, show_progress=False)


class PipelineDataset(Dataset):

    def __init__(self):
        self.pipeline = lambda x: x

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return self.pipeline(dict(value=idx))['value']


def test_stage2_pipeline_reaches_persistent_workers():
    from mmcv.transforms import BaseTransform

    from mmconr.registry import TRANSFORMS

    @TRANSFORMS.register_module(force=True)
    class AddHundred(BaseTransform):

        def transform(self, results):
            results['value'] += 100
            return results

    dataset = PipelineDataset()
    loader = DataLoader(dataset, batch_size=4, num_workers=1,
                        persistent_workers=True)
    assert next(iter(loader)).tolist() == [0, 1, 2, 3]
    set_pipeline(dataset, [dict(type='AddHundred')])
    restart_workers(loader)
    assert next(iter(loader)).tolist() == [100, 101, 102, 103]


def test_hook_arguments_may_name_config_keys():
    from types import SimpleNamespace

    from mmengine.config import Config

    from mmconr.engine.hooks.conaff_neck_hook import from_config
    runner = SimpleNamespace(cfg=Config(dict(feature_dataloader=dict(a=1))))
    assert from_config(runner, 'H', 'dataloader',
                       'feature_dataloader') == dict(a=1)
    assert from_config(runner, 'H', 'dataloader', dict(b=2)) == dict(b=2)
    with pytest.raises(KeyError, match="H: num_clusters='nclust' is not a"):
        from_config(runner, 'H', 'num_clusters', 'nclust')


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
