"""The dense formulation of the neighbourhoods (docs/method.md §1): B x B
tensors on any device, the reference the sparse path is checked against."""
import torch
import torch.nn.functional as F

from .checks import check_args, check_feats
from .topk import cosine_knn


def local_neighbors(feats: torch.Tensor, k: int) -> torch.LongTensor:
    """Cosine k-NN of every row among the rows (the LN baseline).

    Args:
        feats: (B, D) features; L2-normalised inside.
        k: neighbourhood size, the sample itself included.

    Returns:
        LongTensor (B, k): row i lists i first, then its k-1 most similar rows.
    """
    check_feats(feats)
    check_args(feats.shape[0], k=k)
    with torch.no_grad():
        return cosine_knn(F.normalize(feats.float(), dim=1), k)[1]


def check_conaff(feats: torch.Tensor, k1: int, k2: int,
                 num_layers: int) -> None:
    check_feats(feats)
    check_args(feats.shape[0], num_layers=num_layers, k1=k1, k2=k2)


def initial_lists(feats: torch.Tensor, k1: int):
    """Step 1: cosine k1-NN ranks and alpha-QE weights (alpha = 2)."""
    sims, ranks = cosine_knn(F.normalize(feats.float(), dim=1), k1)
    return ranks, sims * sims


def dense_layer(affinity: torch.Tensor, ranks: torch.Tensor,
                weights: torch.Tensor) -> torch.Tensor:
    """One propagation layer of step 3 on a dense (B, B) affinity."""
    affinity = affinity + affinity.t()
    propagated = weights[:, :1] * affinity[ranks[:, 0]]
    for j in range(1, ranks.shape[1]):
        propagated.addcmul_(weights[:, j:j + 1], affinity[ranks[:, j]])
    return F.normalize(propagated, p=2, dim=1)


def conaff_affinity(feats: torch.Tensor,
                    k1: int,
                    k2: int,
                    num_layers: int = 2) -> torch.Tensor:
    """The propagated affinity rows ``A`` (B, B) of docs/method.md §1 steps
    1-3, as dense tensor operations (the reference formulation)."""
    check_conaff(feats, k1, k2, num_layers)
    ranks, weights = initial_lists(feats, k1)
    batch_size = feats.shape[0]
    affinity = weights.new_zeros(batch_size, batch_size)
    affinity.scatter_(1, ranks, 1.0)
    if k2 == 1:  # the official code skips the propagation entirely
        return affinity
    for _ in range(num_layers):
        affinity = dense_layer(affinity, ranks[:, :k2], weights[:, :k2])
    return affinity
