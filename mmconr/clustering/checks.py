"""Checks of the number of clusters, shared by k-means, the hooks, the
metric and the APIs."""
from typing import Sequence

import numpy as np


def check_num_clusters(num_clusters) -> int:
    """``num_clusters`` as an int; an integer >= 2 or a ValueError."""
    if isinstance(num_clusters, bool) or not isinstance(
            num_clusters, (int, np.integer)) or num_clusters < 2:
        raise ValueError(
            f'num_clusters must be an integer >= 2, got {num_clusters!r}')
    return int(num_clusters)


def check_num_classes(owner: str, num_clusters: int, classes: Sequence,
                      what: str) -> None:
    """``num_clusters`` must equal the number of ``classes`` a labelled
    dataset declares (``what`` names it); no classes: nothing to check."""
    if classes and len(classes) != num_clusters:
        raise ValueError(
            f'{owner}: num_clusters={num_clusters} does not match the '
            f'{len(classes)} classes of {what}; set num_clusters='
            f'{len(classes)} (or match_classes=False to cluster into another '
            'number of groups on purpose)')


def dataset_classes(dataset) -> Sequence:
    """The classes a dataset declares in ``metainfo`` (maybe none)."""
    return getattr(dataset, 'metainfo', {}).get('classes') or ()
