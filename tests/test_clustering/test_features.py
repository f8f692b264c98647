import pytest
import torch
from mmpretrain.structures import DataSample
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mmconr.clustering import extract_dataset_features


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
