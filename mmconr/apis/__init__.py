"""Python API of the tools: load a trained model, embed a dataset or a
folder of images, cluster it and write what a person looks at."""
from .analysis import neighbor_purity_curve, query_neighbors
from .clustering import (Clustering, boundary_mask, cluster_features,
                         label_agreement)
from .folder import (DEFAULT_FOLDER_CONFIG, FolderClustering, cluster_folder,
                     folder_config, set_epochs, set_image_size)
from .inference import (build_dataloader, embed_dataset, extract_features,
                        init_model, load_config, neighborhood_args)
from .recipe import recipe
from .report import cluster_report, format_summary

__all__ = [
    'neighbor_purity_curve', 'query_neighbors', 'Clustering',
    'boundary_mask', 'cluster_features', 'label_agreement',
    'DEFAULT_FOLDER_CONFIG', 'FolderClustering', 'cluster_folder',
    'folder_config', 'set_epochs', 'set_image_size', 'build_dataloader',
    'embed_dataset', 'extract_features', 'init_model', 'load_config',
    'neighborhood_args', 'recipe', 'cluster_report', 'format_summary'
]
