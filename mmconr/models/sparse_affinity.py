"""Sparse rows for the ConAff propagation (DESIGN §1.1 steps 2-4).

After step 1 every affinity row has k1 nonzeros; ``A + Aᵀ`` and the k2-row
propagation keep the rows sparse (tens to a few hundred nonzeros for
k1/k2 = 10/2), so the B x B products of the dense formulation are mostly
multiplications by zero. Here the rows are kept as CSR arrays built with
plain tensor index operations (any device), and the contextual similarity
``C = A Aᵀ`` is formed either as a sparse-sparse product on the CPU
(SciPy's SMMP kernel, which releases the GIL and runs in threads) or as
dense GEMM over row chunks (CUDA, or rows that are not sparse). Both give
the values of the dense formulation up to float rounding.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, NamedTuple, Tuple

import numpy as np
import scipy.sparse as sp
import torch

# Elements of one dense row chunk (C rows, or gathered propagation terms):
# 4 Mi fp32 values = 16 MiB, small enough to be recycled by the allocator.
CHUNK_ELEMS = 1 << 22
# A sparse-sparse product costs roughly this many dense GEMM
# multiply-adds per scalar product (measured on 2 CPU cores: SMMP ~0.8 ns
# per product, MKL SGEMM ~0.01 ns per multiply-add).
SPGEMM_COST = 80


class SparseRows(NamedTuple):
    """CSR rows of an n x n matrix, columns sorted within each row."""
    crow: torch.Tensor  # (n + 1,) int64
    col: torch.Tensor  # (nnz,) int64
    val: torch.Tensor  # (nnz,) float32
    n: int

    @property
    def nnz(self) -> int:
        return self.col.numel()

    def row_lengths(self) -> torch.Tensor:
        return self.crow[1:] - self.crow[:-1]

    def rows(self) -> torch.Tensor:
        """Row index of every stored entry."""
        return torch.repeat_interleave(
            torch.arange(self.n, device=self.col.device), self.row_lengths())

    def dense_rows(self, start: int, stop: int) -> torch.Tensor:
        """Rows ``start:stop`` as a dense (stop - start, n) tensor."""
        lo, hi = int(self.crow[start]), int(self.crow[stop])
        lengths = self.crow[start + 1:stop + 1] - self.crow[start:stop]
        rows = torch.repeat_interleave(
            torch.arange(stop - start, device=self.col.device), lengths)
        out = self.val.new_zeros(stop - start, self.n)
        out[rows, self.col[lo:hi]] = self.val[lo:hi]
        return out

    def to_scipy(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.val.cpu().numpy(), self.col.cpu().numpy(),
                              self.crow.cpu().numpy()),
                             shape=(self.n, self.n))


def _from_sorted_keys(keys: torch.Tensor, vals: torch.Tensor,
                      n: int) -> SparseRows:
    """CSR of entries given by sorted ``row * n + col`` keys, duplicates
    summed."""
    keys, inverse = torch.unique_consecutive(keys, return_inverse=True)
    summed = vals.new_zeros(keys.numel()).index_add_(0, inverse, vals)
    rows = torch.div(keys, n, rounding_mode='floor')
    counts = torch.bincount(rows, minlength=n)
    crow = torch.zeros(n + 1, dtype=torch.long, device=keys.device)
    torch.cumsum(counts, 0, out=crow[1:])
    return SparseRows(crow, keys - rows * n, summed, n)


def coalesce(rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor,
             n: int) -> SparseRows:
    """CSR of (row, col, val) triplets in any order, duplicates summed."""
    keys, order = torch.sort(rows * n + cols)
    return _from_sorted_keys(keys, vals[order], n)


def knn_rows(ranks: torch.Tensor) -> SparseRows:
    """Step 2: ``A[i, R[i, j]] = 1`` for the k1 entries of every row."""
    n, k1 = ranks.shape
    rows = torch.arange(n, device=ranks.device).repeat_interleave(k1)
    ones = torch.ones(n * k1, device=ranks.device)
    return coalesce(rows, ranks.reshape(-1), ones, n)


def symmetrize(a: SparseRows) -> SparseRows:
    """``A + Aᵀ``."""
    rows = a.rows()
    return coalesce(
        torch.cat([rows, a.col]), torch.cat([a.col, rows]),
        torch.cat([a.val, a.val]), a.n)


def _row_chunks(sizes: torch.Tensor, budget: int) -> Iterator[Tuple[int,
                                                                    int]]:
    """Consecutive row ranges whose summed ``sizes`` stay near ``budget``
    (a single row may exceed it)."""
    ends = torch.cumsum(sizes, 0).tolist()
    start, base = 0, 0
    for i, end in enumerate(ends):
        if end - base > budget and i > start:
            yield start, i
            start, base = i, ends[i - 1]
    if start < len(ends):
        yield start, len(ends)


def propagate(a: SparseRows, ranks: torch.Tensor,
              weights: torch.Tensor) -> SparseRows:
    """``A'[i] = sum_j weights[i, j] * A[ranks[i, j]]``, rows L2-normalised.

    Processed in row chunks of about :data:`CHUNK_ELEMS` gathered terms.
    """
    n, k2 = ranks.shape
    device = a.col.device
    src = ranks.reshape(-1)  # term t = i * k2 + j reads row src[t]
    term_len = a.row_lengths()[src]
    row_terms = term_len.view(n, k2).sum(1)
    parts = []
    for start, stop in _row_chunks(row_terms, CHUNK_ELEMS):
        t0, t1 = start * k2, stop * k2
        lengths = term_len[t0:t1]
        term = torch.repeat_interleave(
            torch.arange(t0, t1, device=device), lengths)
        first = torch.cumsum(lengths, 0) - lengths  # term's first gathered
        offset = torch.arange(term.numel(), device=device) - \
            first.repeat_interleave(lengths)
        pos = a.crow[src[term]] + offset
        rows = torch.div(term, k2, rounding_mode='floor')
        vals = weights.reshape(-1)[term] * a.val[pos]
        parts.append(coalesce(rows, a.col[pos], vals, n))
    out = _concat_rows(parts, n)
    norms = torch.zeros(n, device=device).index_add_(0, out.rows(),
                                                     out.val * out.val)
    val = out.val / norms.sqrt().clamp_min(1e-12)[out.rows()]
    return out._replace(val=val)


def _concat_rows(parts, n: int) -> SparseRows:
    """Sum of CSR parts that cover disjoint, increasing row ranges."""
    if len(parts) == 1:
        return parts[0]
    crow = parts[0].crow.new_zeros(n + 1)
    for p in parts:
        crow[1:] += p.row_lengths()
    crow = torch.cumsum(crow, 0)
    return SparseRows(crow, torch.cat([p.col for p in parts]),
                      torch.cat([p.val for p in parts]), n)


def spgemm_cost(a: SparseRows) -> int:
    """Scalar products of the sparse ``A Aᵀ``: sum over columns of
    (nonzeros in the column)²."""
    per_col = torch.bincount(a.col, minlength=a.n).double()
    return int((per_col * per_col).sum())


def contextual_rows(a: SparseRows,
                    use_spgemm: bool) -> Iterator[Tuple[int, torch.Tensor]]:
    """``(start, C[start:stop])`` dense row chunks of ``C = A Aᵀ``.

    ``use_spgemm`` forms each chunk with SciPy's sparse product (CPU,
    two chunks in flight on two threads); otherwise with dense GEMM of the
    chunk's rows against the densified ``A`` (one B x B matrix).
    """
    rows_per_chunk = max(1, CHUNK_ELEMS // a.n)
    starts = list(range(0, a.n, rows_per_chunk))
    if not use_spgemm:
        dense = a.dense_rows(0, a.n)
        for start in starts:
            yield start, dense[start:start + rows_per_chunk] @ dense.t()
        return
    mat = a.to_scipy()
    mat_t = mat.T.tocsr()

    def chunk(start: int) -> torch.Tensor:
        block = mat[start:start + rows_per_chunk] @ mat_t
        out = np.zeros(block.shape, dtype=np.float32)
        block.toarray(out=out)
        return torch.from_numpy(out)

    yield from _threaded(chunk, starts, torch.get_num_threads())


def _threaded(fn: Callable, starts, workers: int):
    """``(start, fn(start))`` in order, at most ``workers`` in flight."""
    if workers < 2 or len(starts) < 2:
        for start in starts:
            yield start, fn(start)
        return
    with ThreadPoolExecutor(workers) as pool:
        pending = [pool.submit(fn, s) for s in starts[:workers]]
        for i, start in enumerate(starts):
            result = pending[i].result()
            if i + workers < len(starts):
                pending.append(pool.submit(fn, starts[i + workers]))
            pending[i] = None
            yield start, result
