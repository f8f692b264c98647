"""Figures and image sheets (matplotlib / Pillow); no model code here."""
from .figures import (comparison_figure, confusion_figure, contact_sheet,
                      curves_figure, k_selection_figure, neighbors_figure,
                      purity_plot, tsne_figure, views_figure)
from .images import dataset_image, image_grid, load_rgb, thumbnail
from .logs import load_scalars, scalar_files, training_panels

__all__ = [
    'comparison_figure', 'confusion_figure', 'contact_sheet',
    'curves_figure',
    'k_selection_figure', 'neighbors_figure', 'purity_plot',
    'tsne_figure', 'dataset_image', 'image_grid', 'load_rgb', 'thumbnail',
    'load_scalars', 'scalar_files', 'training_panels', 'views_figure'
]
