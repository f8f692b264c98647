"""Neighbourhood retrieval: ConAff (paper Eq. 3-7) and local cosine k-NN.

Pure functions plus thin registered modules so that a config chooses the
neighbourhood.  Semantics follow docs/method.md §1, i.e. what the official
code computes (its two CUDA kernels are replaced by tensor ops that run on
CPU and GPU alike: dense B x B ones as the reference, sparse rows for large
CPU batches, :mod:`mmconr.models.sparse_affinity`).
"""
import torch
import torch.nn.functional as F
from torch import nn

from mmconr.registry import MODELS
from . import sparse_affinity

# From this global batch size on, ``conaff_neighbors(method='auto')`` keeps
# the affinity rows of CPU batches sparse: on 2 CPU cores both take ~21 ms
# at B = 1024 (k/k1/k2 = 10/10/2), dense 45 vs sparse 28 ms at 1536 and
# 121 vs 41 ms at 2048 (docs/benchmark.md).
SPARSE_MIN_BATCH = 1024


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


def _self_first_topk(sim: torch.Tensor, k: int, offset: int = 0):
    """:func:`ordered_topk` of rows ``offset..`` of a similarity matrix with
    the sample itself forced to rank 0 (``sim`` is modified).

    Self already has the largest value (cosine 1 / contextual similarity 1)
    except on exact ties with duplicates; forcing it makes "row i's
    neighbours include i" hold unconditionally.
    """
    sim.diagonal(offset=offset).fill_(float('inf'))
    return ordered_topk(sim, k)


def _row_chunks(batch_size: int) -> range:
    """Row starts of chunks of about ``sparse_affinity.CHUNK_ELEMS``
    similarity values: B x B matrices are never materialised at once."""
    step = max(1, sparse_affinity.CHUNK_ELEMS // batch_size)
    return range(0, batch_size, step)


def gram_topk(x: torch.Tensor, k: int):
    """Self-first :func:`ordered_topk` of every row of ``x xᵀ``.

    Row chunks of ``x xᵀ`` (about ``sparse_affinity.CHUNK_ELEMS`` values)
    are reduced to their top k one at a time. ``x xᵀ`` is symmetric: each
    chunk's GEMM covers only the columns from its own first row on and the
    columns before are copied, transposed, from the earlier chunks' GEMMs
    (half the multiply-adds, for keeping B²/2 values).

    Returns:
        (values (B, k), indices (B, k)); rank 0 is the row itself.
    """
    n = x.shape[0]
    step = _row_chunks(n).step
    earlier = []  # (start, x[start:start + step] @ x[start:]ᵀ)
    values, indices = [], []
    buffer = x.new_empty(min(step, n), n)
    for start in _row_chunks(n):
        stop = min(n, start + step)
        right = x[start:stop] @ x[start:].t()
        rows = buffer[:stop - start]
        for first, block in earlier:
            rows[:, first:first + step].copy_(
                block[:, start - first:stop - first].t())
        rows[:, start:] = right
        earlier.append((start, right))
        v, i = _self_first_topk(rows, k, start)
        values.append(v)
        indices.append(i)
    return torch.cat(values), torch.cat(indices)


def cosine_knn(z: torch.Tensor, k: int):
    """Self-first cosine k-NN of the rows of unit-norm ``z`` (B, D), shared
    by every neighbourhood below.

    Returns:
        (similarities (B, k) with rank 0 = 1, indices (B, k)).
    """
    sims, ranks = gram_topk(z, k)
    sims[:, 0] = 1.0  # cosine of a unit vector with itself
    return sims, ranks


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
    with torch.no_grad():
        return cosine_knn(F.normalize(feats.float(), dim=1), k)[1]


def _check_conaff_args(feats, k1, k2, num_layers) -> None:
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


def _initial_lists(feats: torch.Tensor, k1: int):
    """Step 1: cosine k1-NN ranks and alpha-QE weights (alpha = 2)."""
    sims, ranks = cosine_knn(F.normalize(feats.float(), dim=1), k1)
    return ranks, sims * sims


def _dense_layer(affinity: torch.Tensor, ranks: torch.Tensor,
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
    _check_conaff_args(feats, k1, k2, num_layers)
    ranks, weights = _initial_lists(feats, k1)
    batch_size = feats.shape[0]
    affinity = weights.new_zeros(batch_size, batch_size)
    affinity.scatter_(1, ranks, 1.0)
    if k2 == 1:  # the official code skips the propagation entirely
        return affinity
    for _ in range(num_layers):
        affinity = _dense_layer(affinity, ranks[:, :k2], weights[:, :k2])
    return affinity


def _contextual_neighbors(affinity, k: int) -> torch.Tensor:
    """Step 4: self-first ordered top-k of ``C = A Aᵀ`` by row chunks, for
    dense rows (a tensor) or sparse ones (a SciPy CSR matrix)."""

    def topk(start, rows):
        return _self_first_topk(rows, k, start)[1]

    n = affinity.shape[0]
    if not isinstance(affinity, torch.Tensor):
        # sparse product vs the B³/2 multiply-adds of gram_topk's GEMMs
        if sparse_affinity.spgemm_cost(
                affinity) * sparse_affinity.SPGEMM_COST < n**3 / 2:
            return torch.cat(sparse_affinity.contextual_map(affinity, topk))
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
            :mod:`mmconr.models.sparse_affinity`; CUDA features get their
            k1-NN on the GPU and the rest on the CPU) or ``'auto'``
            (sparse for CPU batches from :data:`SPARSE_MIN_BATCH` samples
            on, dense otherwise). All give the same neighbours up to float
            rounding of near-equal similarities.

    Returns:
        LongTensor (B, k) of row indices, row i starting with i; equal
        contextual similarities are ranked by index.
    """
    _check_k('k', k, feats.shape[0] if feats.dim() == 2 else 0)
    if method not in ('auto', 'dense', 'sparse'):
        raise ValueError(
            f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
    if method == 'auto':
        method = 'sparse' if (feats.device.type == 'cpu' and feats.shape[0]
                              >= SPARSE_MIN_BATCH) else 'dense'
    with torch.no_grad():
        if method == 'dense':
            affinity = conaff_affinity(feats, k1, k2, num_layers)
            return _contextual_neighbors(affinity, k)
        _check_conaff_args(feats, k1, k2, num_layers)
        ranks, weights = _initial_lists(feats, k1)
        affinity = sparse_affinity.propagated_affinity(
            ranks.cpu(), weights.cpu(), k2, num_layers)
        return _contextual_neighbors(affinity, k).to(feats.device)


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
                 num_layers: int = 2,
                 method: str = 'auto') -> None:
        super().__init__()
        for name, value in (('k', k), ('k1', k1), ('k2', k2)):
            _check_k(name, value, value)
        if k2 > k1:
            raise ValueError(f'k2={k2} must not exceed k1={k1}')
        if method not in ('auto', 'dense', 'sparse'):
            raise ValueError(
                f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
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
