"""Python API of the tools: load a trained model, embed a dataset or a
folder of images, cluster it and write what a person looks at."""
from mmconr.utils.config import load_config
from mmconr.utils.config_surgery import DEFAULT_FOLDER_CONFIG, folder_config
from .analysis import neighbor_purity_curve, query_neighbors
from .cluster_model import ClusterModel, Prediction
from .clustering import (Clustering, boundary_mask, cluster_features,
                         label_agreement)
from .compare import compare_configs, paired_gain
from .folder import FolderClustering, assign_folder, cluster_folder
from .inference import (build_dataloader, embed_dataset, extract_features,
                        init_model, neighborhood_args)
from .recipe import recipe
from .report import cluster_report, format_summary

__all__ = [
    'neighbor_purity_curve', 'query_neighbors', 'ClusterModel', 'Prediction',
    'Clustering',
    'boundary_mask', 'cluster_features', 'label_agreement',
    'DEFAULT_FOLDER_CONFIG', 'FolderClustering', 'assign_folder',
    'cluster_folder',
    'folder_config', 'build_dataloader', 'embed_dataset', 'extract_features',
    'init_model', 'load_config', 'neighborhood_args', 'recipe',
    'cluster_report', 'format_summary', 'compare_configs', 'paired_gain'
]
