from .functional import (cluster_accuracy, cluster_metrics, cluster_purity,
                         matched_confusion)
from .metrics import ClusteringMetric

__all__ = [
    'cluster_accuracy', 'cluster_metrics', 'cluster_purity',
    'matched_confusion', 'ClusteringMetric'
]
