"""How large a neighbourhood a batch can fill from one cluster.

A batch of ``B`` samples drawn from ``K`` balanced clusters holds about
``B / K`` samples of each (the anchor included). A neighbourhood of ``k``
samples larger than that must take members of other clusters, and the
group-aware loss then pulls clusters together: on the digits study
(docs/demo.md) ConNR with k = 1.6 x B / K lost to BYOL on every seed, and
with k = 0.6 x B / K gained over it. :func:`neighborhood_size_problem`
warns above :data:`MAX_SHARE` x B / K; :func:`suggest_neighborhood` picks
k, k1 and k2 within it (at most the paper's 10 / 10 / 2).
"""
import math
from fractions import Fraction
from typing import Dict, Optional

# the largest k / (B / K) a neighbourhood is allowed without a warning
MAX_SHARE = 0.75
# the paper's neighbourhood (§4.2), the most suggest_neighborhood gives
PAPER_K, PAPER_K1, PAPER_K2 = 10, 10, 2


def samples_per_cluster(batch_size: int, num_clusters: int) -> float:
    """``B / K``: the expected number of a cluster's samples in a batch
    (the anchor included) when clusters are balanced."""
    for name, value in (('batch_size', batch_size),
                        ('num_clusters', num_clusters)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be a positive integer, got '
                             f'{value!r}')
    return batch_size / num_clusters


def largest_k(batch_size: int, num_clusters: int,
              max_share: float = MAX_SHARE) -> int:
    """The largest k with ``k <= max_share * B / K`` (exact arithmetic; 0
    when not even the anchor alone fits)."""
    samples_per_cluster(batch_size, num_clusters)  # checks the arguments
    return math.floor(Fraction(str(max_share)) * batch_size / num_clusters)


def batch_for_k(k: int, num_clusters: int,
                max_share: float = MAX_SHARE) -> int:
    """The smallest global batch B with ``k <= max_share * B / K``."""
    return math.ceil(Fraction(k * num_clusters) / Fraction(str(max_share)))


def neighborhood_size_problem(k: int,
                              batch_size: int,
                              num_clusters: int,
                              max_share: float = MAX_SHARE) -> Optional[str]:
    """None if ``k <= max_share * B / K``; otherwise what is wrong and what
    to change, naming k, B and K."""
    per_cluster = samples_per_cluster(batch_size, num_clusters)
    limit = largest_k(batch_size, num_clusters, max_share)
    if k <= limit:
        return None
    what = (f'the neighbourhood size k={k} exceeds {max_share:g} x the '
            f'{per_cluster:.1f} samples of a cluster that a global batch of '
            f'B={batch_size} holds for K={num_clusters} clusters: many '
            'neighbourhoods then take samples of other clusters, which the '
            'group-aware loss pulls together (on the digits study of '
            'docs/demo.md, k = 1.6 x B/K fell below BYOL). ')
    if limit < 1:
        change = ('Not even k=1 (the anchor alone) is within the bound at '
                  'this batch; a global batch of at least '
                  f'{batch_for_k(1, num_clusters, max_share)} allows k=1 and '
                  f'{batch_for_k(k, num_clusters, max_share)} allows k={k}')
    else:
        suggested = suggest_neighborhood(batch_size, num_clusters, max_share)
        change = (f'Use k <= {limit} (e.g. k/k1/k2 = {suggested["k"]}/'
                  f'{suggested["k1"]}/{suggested["k2"]}) or a global batch '
                  f'of at least {batch_for_k(k, num_clusters, max_share)}')
    return (what + change + "; a config that keeps the paper's k on purpose "
            'may ignore this')


def neighborhood_from_k(k: int, batch_size: int) -> Dict[str, int]:
    """k, ``k1 = min(k + 1, 10)`` first-order neighbours (at most the
    batch) and ``k2 = 2`` (1 when ``k1 < 4``) for the propagation."""
    k1 = min(k + 1, PAPER_K1, batch_size)
    return dict(k=k, k1=k1, k2=min(PAPER_K2 if k1 >= 4 else 1, k1))


def suggest_neighborhood(batch_size: int,
                         num_clusters: int,
                         max_share: float = MAX_SHARE) -> Dict[str, int]:
    """``k`` = the largest size within ``max_share * B / K`` (at most the
    paper's 10; 1, the anchor alone, when none fits: check
    :func:`largest_k` first) and its k1, k2 (:func:`neighborhood_from_k`): 10 /
    10 / 2 (the paper's) for the paper's batch of 512 and 10 clusters, 4 /
    5 / 2 for a batch of 64 and 10 clusters."""
    k = max(1, min(PAPER_K, largest_k(batch_size, num_clusters, max_share)))
    return neighborhood_from_k(k, batch_size)
