"""Deterministic row-wise top-k and the chunked self-first k-NN that every
neighbourhood is built on."""
import torch

# Elements of one dense row chunk (similarity or C rows): 1 Mi fp32 values
# = 4 MiB, which the allocator recycles between chunks instead of mapping
# fresh pages (timings: docs/benchmark.md). Read at call time, so that a
# test can shrink it.
CHUNK_ELEMS = 1 << 20


def ordered_topk(values: torch.Tensor, k: int):
    """Row-wise top-k in a fixed order: value descending, then column index
    ascending (``torch.topk`` leaves the order of equal values unspecified;
    ties are common in contextual similarities, e.g. the integer counts of
    ``k2 == 1`` or the zeros of rows with fewer than k candidates).

    Returns:
        (values (R, k), indices (R, k)).
    """
    n = values.shape[1]
    vals, idx = values.topk(min(k + 1, n), dim=1, largest=True, sorted=True)
    if vals.shape[1] > k:
        # a tie across the k-th place: take the lowest columns among equals
        tied = (vals[:, k - 1] == vals[:, k]).nonzero().flatten()
        vals, idx = vals[:, :k].clone(), idx[:, :k].clone()
        if tied.numel():
            sub = values[tied]
            kth = vals[tied, k - 1:]
            above = sub > kth
            equal = sub == kth
            need = k - above.sum(1, keepdim=True)
            chosen = above | (equal & (equal.cumsum(1) <= need))
            cols = chosen.nonzero()[:, 1].view(-1, k)
            idx[tied] = cols
            vals[tied] = sub.gather(1, cols)
    idx, order = idx.sort(dim=1)
    vals = vals.gather(1, order)
    vals, order = vals.sort(dim=1, descending=True, stable=True)
    return vals, idx.gather(1, order)


def self_first_topk(sim: torch.Tensor, k: int, offset: int = 0):
    """:func:`ordered_topk` of rows ``offset..`` of a similarity matrix with
    the sample itself forced to rank 0 (``sim`` is modified).

    Self already has the largest value (cosine 1 / contextual similarity 1)
    except on exact ties with duplicates; forcing it makes "row i's
    neighbours include i" hold unconditionally.
    """
    sim.diagonal(offset=offset).fill_(float('inf'))
    return ordered_topk(sim, k)


def rows_per_chunk(num_columns: int) -> int:
    """Rows of a chunk of about :data:`CHUNK_ELEMS` values: B x B matrices
    are never materialised at once."""
    return max(1, CHUNK_ELEMS // num_columns)


def gram_topk(x: torch.Tensor, k: int):
    """Self-first :func:`ordered_topk` of every row of ``x xᵀ``.

    Row chunks of ``x xᵀ`` (about :data:`CHUNK_ELEMS` values) are reduced
    to their top k one at a time. ``x xᵀ`` is symmetric: each chunk's GEMM
    covers only the columns from its own first row on and the columns
    before are copied, transposed, from the earlier chunks' GEMMs (half the
    multiply-adds, for keeping B²/2 values).

    Returns:
        (values (B, k), indices (B, k)); rank 0 is the row itself.
    """
    n = x.shape[0]
    step = rows_per_chunk(n)
    earlier = []  # (start, x[start:start + step] @ x[start:]ᵀ)
    values, indices = [], []
    buffer = x.new_empty(min(step, n), n)
    for start in range(0, n, step):
        stop = min(n, start + step)
        right = x[start:stop] @ x[start:].t()
        rows = buffer[:stop - start]
        for first, block in earlier:
            rows[:, first:first + step].copy_(
                block[:, start - first:stop - first].t())
        rows[:, start:] = right
        earlier.append((start, right))
        v, i = self_first_topk(rows, k, start)
        values.append(v)
        indices.append(i)
    return torch.cat(values), torch.cat(indices)


def cosine_knn(z: torch.Tensor, k: int):
    """Self-first cosine k-NN of the rows of unit-norm ``z`` (B, D), shared
    by every neighbourhood.

    Returns:
        (similarities (B, k) with rank 0 = 1, indices (B, k)).
    """
    sims, ranks = gram_topk(z, k)
    sims[:, 0] = 1.0  # cosine of a unit vector with itself
    return sims, ranks
