"""Registered neighbourhood modules: a config chooses the neighbourhood."""
import torch
from torch import nn

from mmconr.registry import MODELS
from .checks import check_args
from .conaff import conaff_neighbors
from .dense import local_neighbors


@MODELS.register_module()
class LocalNeighborhood(nn.Module):
    """Cosine k-NN neighbourhood (the paper's LN ablation)."""

    def __init__(self, k: int = 10) -> None:
        super().__init__()
        check_args(k=k)
        self.k = k

    @property
    def min_batch_size(self) -> int:
        return self.k

    def forward(self, feats: torch.Tensor) -> torch.LongTensor:
        return local_neighbors(feats, self.k)

    def extra_repr(self) -> str:
        return f'k={self.k}'


@MODELS.register_module()
class ConAffNeighborhood(nn.Module):
    """Contextually affinitive neighbourhood (the paper's CnAffN)."""

    def __init__(self,
                 k: int = 10,
                 k1: int = 10,
                 k2: int = 2,
                 num_layers: int = 2,
                 method: str = 'auto') -> None:
        super().__init__()
        check_args(method=method, num_layers=num_layers, k=k, k1=k1, k2=k2)
        self.k, self.k1, self.k2, self.num_layers = k, k1, k2, num_layers
        self.method = method

    @property
    def min_batch_size(self) -> int:
        return max(self.k, self.k1)

    def forward(self, feats: torch.Tensor) -> torch.LongTensor:
        return conaff_neighbors(feats, self.k, self.k1, self.k2,
                                self.num_layers, self.method)

    def extra_repr(self) -> str:
        return (f'k={self.k}, k1={self.k1}, k2={self.k2}, '
                f'num_layers={self.num_layers}, method={self.method!r}')
