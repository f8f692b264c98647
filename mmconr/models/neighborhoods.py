"""Neighbourhood retrieval: ConAff (paper Eq. 3-7) and local cosine k-NN.

Pure functions plus thin registered modules so that a config chooses the
neighbourhood.  Semantics follow DESIGN.md §1.1, i.e. what the official
code computes (its two CUDA kernels are replaced by dense tensor ops that run
on CPU and GPU alike).
"""
import torch
import torch.nn.functional as F
from torch import nn

from mmconr.registry import MODELS


def _check_feats(feats: torch.Tensor) -> None:
    if not isinstance(feats, torch.Tensor) or feats.dim() != 2:
        raise ValueError('feats must be a 2-D tensor (B, D), got '
                         f'{getattr(feats, "shape", type(feats))}')
    if feats.shape[0] == 0:
        raise ValueError('feats is empty: a batch of 0 samples has no '
                         'neighbours')
    if not torch.isfinite(feats).all():
        raise ValueError('feats contains NaN or inf values; cannot retrieve '
                         'neighbours')


def _check_k(name: str, value: int, batch_size: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    if value > batch_size:
        raise ValueError(
            f'{name}={value} is larger than the (global) batch size '
            f'{batch_size}; use a larger batch, drop_last=True or a smaller '
            f'{name}')


def _self_first_topk(sim: torch.Tensor, k: int):
    """Row-wise top-k of ``sim`` with the sample itself forced to rank 0.

    Self already has the largest value (cosine 1 / contextual similarity 1)
    except on exact ties with duplicates; forcing it makes "row i's
    neighbours include i" hold unconditionally.
    """
    sim = sim.clone()
    sim.diagonal().fill_(float('inf'))
    values, indices = sim.topk(k, dim=1, largest=True, sorted=True)
    return values, indices


def local_neighbors(feats: torch.Tensor, k: int) -> torch.LongTensor:
    """Cosine k-NN of every row among the rows (the LN baseline).

    Args:
        feats: (B, D) features; L2-normalised inside.
        k: neighbourhood size, the sample itself included.

    Returns:
        LongTensor (B, k): row i lists i first, then its k-1 most similar rows.
    """
    _check_feats(feats)
    _check_k('k', k, feats.shape[0])
    z = F.normalize(feats.float(), dim=1)
    _, indices = _self_first_topk(z @ z.t(), k)
    return indices


def conaff_affinity(feats: torch.Tensor,
                    k1: int,
                    k2: int,
                    num_layers: int = 2) -> torch.Tensor:
    """The propagated affinity rows ``A`` of DESIGN §1.1 steps 1-3 (B, B)."""
    _check_feats(feats)
    batch_size = feats.shape[0]
    _check_k('k1', k1, batch_size)
    _check_k('k2', k2, batch_size)
    if k2 > k1:
        raise ValueError(f'k2={k2} must not exceed k1={k1}: the propagation '
                         'uses the first k2 of the k1 retrieved neighbours')
    if not isinstance(num_layers, int) or num_layers < 0:
        raise ValueError(
            f'num_layers must be a non-negative integer, got {num_layers!r}')

    z = F.normalize(feats.float(), dim=1)
    sims, ranks = _self_first_topk(z @ z.t(), k1)
    sims[:, 0] = 1.0  # cosine of a unit vector with itself
    weights = sims * sims  # alpha-query-expansion weights, alpha = 2

    affinity = torch.zeros(
        batch_size, batch_size, dtype=z.dtype, device=z.device)
    affinity.scatter_(1, ranks, 1.0)
    if k2 == 1:  # the official code skips the propagation entirely
        return affinity
    for _ in range(num_layers):
        affinity = affinity + affinity.t()
        propagated = weights[:, :1] * affinity[ranks[:, 0]]
        for j in range(1, k2):
            propagated.addcmul_(weights[:, j:j + 1], affinity[ranks[:, j]])
        affinity = F.normalize(propagated, p=2, dim=1)
    return affinity


def conaff_neighbors(feats: torch.Tensor,
                     k: int,
                     k1: int,
                     k2: int,
                     num_layers: int = 2) -> torch.LongTensor:
    """Contextually affinitive neighbours (paper Eq. 3-7, DESIGN §1.1).

    Args:
        feats: (B, D) target projections of the global batch; normalised
            inside and computed in fp32 whatever the input dtype.
        k: neighbourhood size returned (sample itself included, rank 0).
        k1: size of the initial cosine k-NN lists.
        k2: number of those neighbours whose affinity rows are propagated
            (query expansion); ``k2 == 1`` skips the propagation.
        num_layers: propagation layers (2 in the paper).

    Returns:
        LongTensor (B, k) of row indices, row i starting with i.
    """
    _check_k('k', k, feats.shape[0] if feats.dim() == 2 else 0)
    with torch.no_grad():
        affinity = conaff_affinity(feats, k1, k2, num_layers)
        contextual = affinity @ affinity.t()
        _, indices = _self_first_topk(contextual, k)
    return indices


@MODELS.register_module()
class LocalNeighborhood(nn.Module):
    """Cosine k-NN neighbourhood (the paper's LN ablation)."""

    def __init__(self, k: int = 10) -> None:
        super().__init__()
        _check_k('k', k, k)
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
                 num_layers: int = 2) -> None:
        super().__init__()
        for name, value in (('k', k), ('k1', k1), ('k2', k2)):
            _check_k(name, value, value)
        if k2 > k1:
            raise ValueError(f'k2={k2} must not exceed k1={k1}')
        self.k, self.k1, self.k2, self.num_layers = k, k1, k2, num_layers

    @property
    def min_batch_size(self) -> int:
        return max(self.k, self.k1)

    def forward(self, feats: torch.Tensor) -> torch.LongTensor:
        return conaff_neighbors(feats, self.k, self.k1, self.k2,
                                self.num_layers)

    def extra_repr(self) -> str:
        return (f'k={self.k}, k1={self.k1}, k2={self.k2}, '
                f'num_layers={self.num_layers}')
