import itertools

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from mmconr.evaluation import ClusteringMetric, cluster_metrics, cluster_purity


def brute_force_acc(gt, pred):
    classes = sorted(set(gt))
    clusters = sorted(set(pred))
    best = 0
    for perm in itertools.permutations(classes, len(clusters)):
        mapping = dict(zip(clusters, perm))
        best = max(best, sum(mapping[p] == g for p, g in zip(pred, gt)))
    return best / len(gt)


def test_cluster_metrics_against_sklearn_and_brute_force():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, 300)
    swap = rng.random(300) < 0.6
    pred = np.where(swap, (gt + 2) % 5, rng.integers(0, 5, 300))
    scores = cluster_metrics(gt, pred)
    assert scores['nmi'] == pytest.approx(
        normalized_mutual_info_score(gt, pred))
    assert scores['ari'] == pytest.approx(adjusted_rand_score(gt, pred))
    assert scores['acc'] == pytest.approx(brute_force_acc(gt, pred))
    assert 0.5 < scores['acc'] < 0.8


def test_cluster_metrics_ignore_negative_labels():
    gt = np.array([0, 0, 1, 1, -1, -1, 2, 2])
    pred = np.array([1, 1, 0, 0, 2, 2, 2, 2])
    scores = cluster_metrics(gt, pred)
    assert scores['acc'] == 1.0 and scores['nmi'] == pytest.approx(1.0)
    assert cluster_metrics(torch.tensor(gt), torch.tensor(pred)) == scores
    with pytest.raises(ValueError, match='no sample has a ground-truth'):
        cluster_metrics([-1, -1], [0, 1])
    with pytest.raises(ValueError, match='3 entries but pred_labels has 2'):
        cluster_metrics([0, 1, 1], [0, 1])


def test_cluster_purity():
    assert cluster_purity([0, 0, 1, 1, 1], [5, 5, 5, 7, 7]) == pytest.approx(
        4 / 5)


def test_clustering_metric_reports_percent_and_writes_csv(tmp_path):
    from mmpretrain.structures import DataSample
    x, y = make_blobs(200, n_features=4, centers=4, cluster_std=0.3,
                      random_state=1)
    out = tmp_path / 'assign.csv'
    metric = ClusteringMetric(num_clusters=4, out_file=str(out))
    samples = []
    for i, (feat, label) in enumerate(zip(x, y)):
        s = DataSample().set_gt_label(int(label))
        s.set_metainfo(dict(sample_idx=i))
        s.set_field(torch.tensor(feat, dtype=torch.float32), 'pred_feat')
        samples.append(s.to_dict())
    metric.process(None, samples)
    scores = metric.compute_metrics(metric.results)
    assert scores['ACC'] == pytest.approx(100.0)
    assert scores['NMI'] == pytest.approx(100.0)
    rows = out.read_text().strip().splitlines()
    assert rows[0] == 'sample_idx,gt_label,cluster' and len(rows) == 201


def test_clustering_metric_without_labels_clusters_but_scores_nothing(
        tmp_path):
    from mmpretrain.structures import DataSample
    x, _ = make_blobs(60, n_features=4, centers=3, random_state=2)
    out = tmp_path / 'unlabelled.csv'
    metric = ClusteringMetric(num_clusters=3, out_file=str(out))
    samples = []
    for i, feat in enumerate(x):
        s = DataSample().set_gt_label(-1)
        s.set_metainfo(dict(sample_idx=i))
        s.set_field(torch.tensor(feat, dtype=torch.float32), 'pred_feat')
        samples.append(s.to_dict())
    metric.process(None, samples)
    assert metric.compute_metrics(metric.results) == {}
    rows = out.read_text().strip().splitlines()[1:]
    assert len(rows) == 60 and {r.split(',')[1] for r in rows} == {'-1'}
