"""FeatureBank and BoundaryFilterHook(features='train_views'): the
per-epoch k-means clusters the mean of the (normalised) target projections
the group-aware steps computed, per sample, without a feature pass."""
import torch
import torch.nn.functional as F

from mmconr.clustering import kmeans
from mmconr.clustering.bank import FeatureBank
from tests.tiny_runs import tiny_cfg, train


def test_bank_means_the_views_of_the_samples_seen():
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(6, 4, generator=gen)
    bank = FeatureBank(start)
    views = [torch.randn(3, 4, generator=gen) for _ in range(2)]
    more = torch.randn(1, 4, generator=gen)
    bank.add(torch.tensor([0, 2, 5]), views)
    bank.add(torch.tensor([2]), [more])
    assert bank.collect() == 3
    expected = F.normalize(start, dim=1)
    seen = {
        0: [views[0][0], views[1][0]],
        2: [views[0][1], views[1][1], more[0]],
        5: [views[0][2], views[1][2]],
    }
    for i, zs in seen.items():
        expected[i] = F.normalize(
            torch.stack([F.normalize(z, dim=0) for z in zs]).mean(0), dim=0)
    torch.testing.assert_close(bank.feats, expected)
    # nothing added since: collecting again changes nothing
    assert bank.collect() == 0
    torch.testing.assert_close(bank.feats, expected)


def test_hook_clusters_the_training_views(tmp_path, monkeypatch):
    added = []
    original = FeatureBank.add

    def record(self, sample_idx, views):
        added.append((sample_idx.clone(), [v.detach().clone()
                                           for v in views]))
        original(self, sample_idx, views)

    monkeypatch.setattr(FeatureBank, 'add', record)
    cfg = tiny_cfg(tmp_path, boundary_features='train_views')
    cfg.train_cfg.max_epochs = 4
    runner = train(cfg)
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'BoundaryFilterHook')
    assert hook.features == 'train_views'
    log = open(next(tmp_path.rglob('*.log'))).read()
    # epoch 2 starts the bank with the whole-dataset pass, epoch 3 uses the
    # training views of epoch 2 (20-sample batches, drop_last: 60 of 64)
    assert 'epoch 2: kept fraction' in log and \
        'k-means of the features of the whole-dataset pass' in log
    assert 'epoch 3: kept fraction' in log and \
        'k-means of the features of the training views (60 of 64 samples ' \
        'seen)' in log
    # the bank's rows are the mean normalised projections of epoch 2's
    # steps (3 steps x 2 view orders) ...
    steps = len(runner.train_dataloader)
    epoch2 = added[:steps]
    sums, counts = torch.zeros(64, hook._bank.feats.shape[1]), \
        torch.zeros(64)
    for idx, views in epoch2:
        for view in views:
            sums.index_add_(0, idx, F.normalize(view, dim=1))
            counts.index_add_(0, idx, torch.ones(len(idx)))
    seen = counts > 0
    assert int(seen.sum()) == 60
    torch.testing.assert_close(hook._bank.feats[seen],
                               F.normalize(sums[seen] / counts[seen, None],
                                           dim=1))
    # ... and epoch 3's pseudo labels are their k-means
    cfg_k = dict(hook.kmeans_cfg)
    cfg_k['seed'] = cfg_k.get('seed', 0) + 3
    _, labels = kmeans(hook._bank.feats, hook.num_clusters, **cfg_k)
    assert torch.equal(hook.state['pseudo_labels'].cpu(), labels)
