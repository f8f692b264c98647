"""mmconr: CoNR deep clustering on MMEngine / MMPretrain."""
from .version import __version__

__all__ = ['__version__']
