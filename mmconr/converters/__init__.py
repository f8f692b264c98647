"""Checkpoints in and out: the official code's as mmconr checkpoints, and
mmconr's for others to use (``tools/model_converters/``)."""
from .official_connr import (convert_official_byol, official_momentum,
                             official_to_mmconr, rename_official_key)
from .publish import (BACKBONE_PREFIXES, backbone_weights, published,
                      sha256_prefix, state_dict_of)

__all__ = [
    'BACKBONE_PREFIXES', 'backbone_weights', 'published', 'sha256_prefix',
    'state_dict_of',
    'convert_official_byol', 'official_momentum', 'official_to_mmconr',
    'rename_official_key'
]
