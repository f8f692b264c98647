"""Clustering of whole datasets: the feature pass over every sample and
k-means, shared by the training hooks, the evaluation metric and the APIs
(nothing here depends on them)."""
from .checks import check_num_classes, check_num_clusters, dataset_classes
from .distributed import kmeans_spread
from .features import extract_dataset_features
from .kmeans import (EPOCH_KMEANS, EVAL_KMEANS, assign_to_centroids,
                     fill_empty_clusters, kmeans, kmeans_settings)

__all__ = [
    'check_num_classes', 'check_num_clusters', 'dataset_classes',
    'kmeans_spread', 'extract_dataset_features',
    'EPOCH_KMEANS',
    'EVAL_KMEANS', 'assign_to_centroids', 'fill_empty_clusters', 'kmeans',
    'kmeans_settings'
]
