"""ClusteringMetric: k-means of the evaluated set, scores in percent, CSV."""
import pytest
import torch
from sklearn.datasets import make_blobs

from mmconr.evaluation import ClusteringMetric


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
