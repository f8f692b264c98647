"""ClusteringMetric: k-means on the target features -> NMI / ACC / ARI."""
import csv
from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmconr.clustering import (EVAL_KMEANS, check_num_classes,
                               check_num_clusters, kmeans, kmeans_settings)
from mmconr.registry import METRICS
from mmconr.utils.io import atomic_open
from .functional import cluster_metrics


@METRICS.register_module()
class ClusteringMetric(BaseMetric):
    """Cluster the whole evaluated set and score it against the labels.

    The model's ``predict`` puts the L2-normalised target backbone+projector
    feature of every sample into ``pred_feat``; this metric runs k-means on
    all of them (once, on the main process) and reports NMI, ACC and ARI in
    percent. Samples with a negative ground-truth label are clustered but
    not scored; without any labelled sample (an unlabelled image folder)
    nothing is scored and only ``out_file`` is written.

    Args:
        num_clusters: K.
        kmeans_cfg: keyword arguments of :func:`mmconr.clustering.kmeans`.
        out_file: optional CSV path receiving one row per sample:
            ``sample_idx,gt_label,cluster``.
        match_classes: require ``num_clusters`` to equal the number of
            classes the evaluated dataset declares (checked when the
            evaluation loop is built, before any feature is extracted).
    """
    default_prefix = 'clustering'

    def __init__(self,
                 num_clusters: int,
                 kmeans_cfg: Optional[dict] = None,
                 out_file: Optional[str] = None,
                 match_classes: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_clusters = check_num_clusters(num_clusters)
        self.kmeans_cfg = kmeans_settings(EVAL_KMEANS, kmeans_cfg)
        self.out_file = out_file
        self.match_classes = match_classes
        # (K, D) centres of the last compute_metrics (main process), for a
        # saved clustering (tools/test.py --out)
        self.centroids = None

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta: dict) -> None:
        if self.match_classes:
            check_num_classes('ClusteringMetric', self.num_clusters,
                              (meta or {}).get('classes') or (),
                              'the evaluated dataset')
        self._dataset_meta = meta

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            if 'pred_feat' not in sample:
                raise KeyError(
                    'ClusteringMetric needs `pred_feat` in the predictions; '
                    'the model must be a ConNR-style model whose predict() '
                    'returns target features')
            gt = sample.get('gt_label', None)
            self.results.append(
                dict(
                    feat=sample['pred_feat'].detach().float().cpu(),
                    gt_label=int(gt.reshape(-1)[0]) if gt is not None and
                    gt.numel() else -1,
                    sample_idx=int(sample.get('sample_idx', -1))))

    def compute_metrics(self, results: list) -> dict:
        feats = torch.stack([r['feat'] for r in results])
        gt_labels = torch.tensor([r['gt_label'] for r in results])
        num_labelled_classes = int(gt_labels[gt_labels >= 0].unique().numel())
        if num_labelled_classes and num_labelled_classes != self.num_clusters:
            MMLogger.get_current_instance().warning(
                f'ClusteringMetric: num_clusters={self.num_clusters} but the '
                f'evaluated labels contain {num_labelled_classes} classes')
        self.centroids, pred = kmeans(feats, self.num_clusters,
                                      **self.kmeans_cfg)
        if self.out_file:
            self._write_assignments(results, pred)
        if not num_labelled_classes:
            MMLogger.get_current_instance().info(
                f'ClusteringMetric: none of the {len(results)} samples has a '
                'ground-truth label; clustered but not scored')
            return {}
        scores = cluster_metrics(gt_labels, pred)
        return dict(
            NMI=100.0 * scores['nmi'],
            ACC=100.0 * scores['acc'],
            ARI=100.0 * scores['ari'])

    def _write_assignments(self, results: list, pred: torch.Tensor) -> None:
        with atomic_open(self.out_file, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['sample_idx', 'gt_label', 'cluster'])
            for result, cluster in zip(results, pred.tolist()):
                writer.writerow(
                    [result['sample_idx'], result['gt_label'], cluster])
        MMLogger.get_current_instance().info(
            f'cluster assignments written to {self.out_file}')
