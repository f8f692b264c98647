"""ConAff neighbours (paper Eq. 3-7, docs/method.md §1): the dense or the
sparse path, chosen per batch.

The official code's two CUDA kernels are replaced by tensor ops that run on
CPU and GPU alike: dense B x B ones as the reference (:mod:`.dense`),
sparse rows for large CPU batches (:mod:`.sparse`).
"""
import torch

from . import sparse
from .checks import check_args, check_feats
from .dense import check_conaff, conaff_affinity, initial_lists
from .topk import gram_topk, self_first_topk

# From this global batch size on, ``conaff_neighbors(method='auto')`` keeps
# the affinity rows of CPU batches sparse (the crossover of the two paths,
# measured by benchmark_neighborhood.py: docs/benchmark.md).
SPARSE_MIN_BATCH = 1024


def contextual_neighbors(affinity, k: int) -> torch.Tensor:
    """Step 4: self-first ordered top-k of ``C = A Aᵀ`` by row chunks, for
    dense rows (a tensor) or sparse ones (a SciPy CSR matrix)."""

    def topk(start, rows):
        return self_first_topk(rows, k, start)[1]

    n = affinity.shape[0]
    if not isinstance(affinity, torch.Tensor):
        # sparse product vs the B³/2 multiply-adds of gram_topk's GEMMs
        if sparse.spgemm_cost(affinity) * sparse.SPGEMM_COST < n**3 / 2:
            return torch.cat(sparse.contextual_map(affinity, topk))
        affinity = torch.from_numpy(affinity.toarray())
    return gram_topk(affinity, k)[1]


def conaff_neighbors(feats: torch.Tensor,
                     k: int,
                     k1: int,
                     k2: int,
                     num_layers: int = 2,
                     method: str = 'auto') -> torch.LongTensor:
    """Contextually affinitive neighbours (paper Eq. 3-7, docs/method.md §1).

    Args:
        feats: (B, D) target projections of the global batch; normalised
            inside and computed in fp32 whatever the input dtype.
        k: neighbourhood size returned (sample itself included, rank 0).
        k1: size of the initial cosine k-NN lists.
        k2: number of those neighbours whose affinity rows are propagated
            (query expansion); ``k2 == 1`` skips the propagation.
        num_layers: propagation layers (2 in the paper).
        method: ``'dense'`` (B x B tensors, the reference formulation; any
            device), ``'sparse'`` (sparse affinity rows on the CPU, see
            :mod:`mmconr.models.neighborhoods.sparse`; CUDA features get
            their k1-NN on the GPU and the rest on the CPU) or ``'auto'``
            (sparse for CPU batches from :data:`SPARSE_MIN_BATCH` samples
            on, dense otherwise). All give the same neighbours up to float
            rounding of near-equal similarities.

    Returns:
        LongTensor (B, k) of row indices, row i starting with i; equal
        contextual similarities are ranked by index.
    """
    check_feats(feats)
    check_args(feats.shape[0], method=method, k=k)
    if method == 'auto':
        method = 'sparse' if (feats.device.type == 'cpu' and feats.shape[0]
                              >= SPARSE_MIN_BATCH) else 'dense'
    with torch.no_grad():
        if method == 'dense':
            affinity = conaff_affinity(feats, k1, k2, num_layers)
            return contextual_neighbors(affinity, k)
        check_conaff(feats, k1, k2, num_layers)
        ranks, weights = initial_lists(feats, k1)
        affinity = sparse.propagated_affinity(ranks.cpu(), weights.cpu(),
                                              k2, num_layers)
        return contextual_neighbors(affinity, k).to(feats.device)
