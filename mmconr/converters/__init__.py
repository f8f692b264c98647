"""Checkpoints written by other code as mmconr checkpoints
(``tools/model_converters/``)."""
from .official_connr import (convert_official_byol, official_momentum,
                             official_to_mmconr, rename_official_key)

__all__ = [
    'convert_official_byol', 'official_momentum', 'official_to_mmconr',
    'rename_official_key'
]
