from .functional import cluster_accuracy, cluster_metrics, cluster_purity
from .kmeans import kmeans
from .metrics import ClusteringMetric

__all__ = [
    'cluster_accuracy', 'cluster_metrics', 'cluster_purity', 'kmeans',
    'ClusteringMetric'
]
