"""Sparse affinity rows for ConAff on the CPU (docs/method.md §1 steps 2-4).

After step 1 every affinity row has k1 nonzeros; ``A + Aᵀ`` and the k2-row
propagation keep the rows sparse (tens to a few hundred nonzeros for
k1/k2 = 10/2), so most of the B x B products of the dense formulation are
multiplications by zero. Here ``A`` is a SciPy CSR matrix: the propagation
is ``P (A + Aᵀ)`` with ``P`` holding the k2 weights of every row, and the
contextual similarity ``C = A Aᵀ`` is formed in row chunks by SciPy's
sparse product (SMMP, which releases the GIL, so chunks run on several
threads) unless a dense GEMM is cheaper. The values are those of the dense
formulation up to float rounding.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Union

import numpy as np
import scipy.sparse as sp
import torch

from .dense import dense_layer
from .topk import rows_per_chunk

# A sparse-sparse product costs roughly this many dense GEMM multiply-adds
# per scalar product (SMMP's time per product over SGEMM's per
# multiply-add, measured by benchmark_neighborhood.py: docs/benchmark.md).
SPGEMM_COST = 80
# The propagation switches to dense rows when a layer would gather more
# than this share of B² values.
DENSE_SHARE = 1 / 8


def _row_normalize(a: sp.csr_matrix) -> sp.csr_matrix:
    rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    norms = np.sqrt(np.bincount(rows, weights=np.square(a.data,
                                                        dtype=np.float64),
                                minlength=a.shape[0]))
    a.data /= np.maximum(norms, 1e-12).astype(a.data.dtype)[rows]
    return a


def propagated_affinity(ranks: torch.Tensor, weights: torch.Tensor, k2: int,
                        num_layers: int) -> Union[sp.csr_matrix,
                                                  torch.Tensor]:
    """Steps 2-3 from the k1-NN ``ranks`` (B, k1) and their alpha-QE
    ``weights`` (B, k1) (CPU tensors).

    Returns:
        The propagated rows ``A`` as CSR, or as a dense (B, B) tensor when
        they stop being sparse (a layer would gather more than
        :data:`DENSE_SHARE` x B² values; the remaining layers then run
        dense, as in :func:`.dense.conaff_affinity`).
    """
    n, k1 = ranks.shape
    r = ranks.numpy()
    a = sp.csr_matrix(
        (np.ones(n * k1, np.float32), r.reshape(-1),
         np.arange(0, n * k1 + 1, k1)), shape=(n, n))
    if k2 == 1:
        return a
    w = weights[:, :k2].numpy()
    prop = sp.csr_matrix(
        (np.ascontiguousarray(w).reshape(-1),
         np.ascontiguousarray(r[:, :k2]).reshape(-1),
         np.arange(0, n * k2 + 1, k2)), shape=(n, n))
    for layer in range(num_layers):
        sym = (a + a.T).tocsr()
        gathered = int(np.diff(sym.indptr)[r[:, :k2]].sum())
        if gathered > DENSE_SHARE * n * n:
            dense = torch.from_numpy(a.toarray())
            for _ in range(layer, num_layers):
                dense = dense_layer(dense, ranks[:, :k2], weights[:, :k2])
            return dense
        a = _row_normalize((prop @ sym).tocsr())
    return a


def spgemm_cost(a: sp.csr_matrix) -> int:
    """Scalar products of the sparse ``A Aᵀ``: sum over columns of
    (nonzeros in the column)²."""
    per_col = np.bincount(a.indices, minlength=a.shape[1]).astype(np.float64)
    return int(per_col @ per_col)


def contextual_map(a: sp.csr_matrix, fn: Callable[[int, torch.Tensor],
                                                  torch.Tensor]) -> list:
    """``[fn(start, C[start:stop]) for every row chunk]`` of ``C = A Aᵀ``.

    Each chunk is formed by SciPy's sparse product and reduced by ``fn``
    (a dense (rows, B) tensor in, a small result out) on
    ``torch.get_num_threads()`` Python threads; meanwhile PyTorch's own
    parallelism is set to one thread so that the cores are not
    oversubscribed.
    """
    n = a.shape[0]
    step = rows_per_chunk(n)
    starts = list(range(0, n, step))
    a_t = a.T.tocsr()
    buffers = threading.local()  # one dense chunk per thread, reused

    def chunk(start: int) -> torch.Tensor:
        block = a[start:start + step] @ a_t
        if not hasattr(buffers, 'out'):
            buffers.out = np.empty((step, n), dtype=np.float32)
        out = buffers.out[:block.shape[0]]
        block.toarray(out=out)
        return fn(start, torch.from_numpy(out))

    workers = torch.get_num_threads()
    if workers < 2 or len(starts) < 2:
        return [chunk(start) for start in starts]
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(chunk, starts))
    finally:
        torch.set_num_threads(workers)
