"""The paper's diagnostics on target features: neighbourhood purity as K
grows (Fig. 2) and the neighbours of chosen queries (Fig. 1b / 5).

Neighbourhoods are retrieved within batches of the training batch size, as
during training (ConAff is defined on a batch, docs/method.md §1).
"""
from typing import Dict, List, Sequence

import numpy as np
import torch

from mmconr.models.neighborhoods import (conaff_neighbors, local_neighbors,
                                         neighbor_purity)


def random_batches(indices: Sequence[int], batch_size: int,
                   num_batches: int, seed: int = 0) -> List[np.ndarray]:
    """``num_batches`` batches of ``batch_size`` distinct indices, drawn as
    a shuffled sampler with drop_last draws them (epoch after epoch)."""
    indices = np.asarray(indices)
    if batch_size > len(indices):
        raise ValueError(f'batch_size={batch_size} is larger than the '
                         f'{len(indices)} samples available')
    rng = np.random.default_rng(seed)
    batches = []
    while len(batches) < num_batches:
        perm = rng.permutation(indices)
        for start in range(0, len(perm) - batch_size + 1, batch_size):
            batches.append(perm[start:start + batch_size])
            if len(batches) == num_batches:
                break
    return batches


def neighbor_purity_curve(feats: torch.Tensor,
                          labels: torch.Tensor,
                          ks: Sequence[int],
                          batch_size: int,
                          num_batches: int = 20,
                          k1: int = 10,
                          k2: int = 2,
                          num_layers: int = 2,
                          seed: int = 0) -> Dict[str, np.ndarray]:
    """Purity of the Euclidean (cosine k-NN on normalised features) and
    ConAff neighbourhoods of size K (the anchor itself not counted) for
    each K in ``ks``, over random batches of the labelled samples.

    ConAff uses ``k1``/``k2``/``num_layers`` (the model's neighbourhood)
    and K neighbours from the contextual similarity; for every K the first
    K of one sorted retrieval of ``max(ks)`` are used.

    Returns:
        dict(ks=(len(ks),), euclidean=(num_batches, len(ks)),
        conaff=(num_batches, len(ks)), upper_bound=(num_batches,
        len(ks))), purities as fractions; ``upper_bound`` is the purity of
        an oracle that knows the labels (limited by the class sizes in the
        batch once K exceeds them).
    """
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1 or ks != sorted(set(ks)):
        raise ValueError(f'ks must be increasing positive integers, got {ks}')
    labels = torch.as_tensor(labels).long().cpu()
    feats = feats.float().cpu()
    labelled = (labels >= 0).nonzero().flatten().numpy()
    if len(labelled) == 0:
        raise ValueError('no sample has a ground-truth label; neighbourhood '
                         'purity needs a labelled dataset')
    kmax = ks[-1]
    if kmax + 1 > batch_size:
        raise ValueError(f'K={kmax} needs batches of more than {kmax} '
                         f'samples; batch_size is {batch_size}')
    curves = dict(euclidean=[], conaff=[], upper_bound=[])
    for batch in random_batches(labelled, batch_size, num_batches, seed):
        z, y = feats[batch], labels[batch]
        # the best any K neighbours can do: all the other class members
        same_class = (y[:, None] == y[None]).sum(1).float() - 1
        curves['upper_bound'].append([
            float((same_class.clamp(max=k) / k).mean()) for k in ks
        ])
        retrieved = dict(
            euclidean=local_neighbors(z, kmax + 1),
            conaff=conaff_neighbors(z, kmax + 1, k1, k2, num_layers))
        for name, neighbors in retrieved.items():
            curves[name].append(
                [float(neighbor_purity(neighbors[:, :k + 1], y)) for k in ks])
    arrays = {k: np.array(v) for k, v in curves.items()}
    return dict(ks=np.array(ks), **arrays)


def query_neighbors(feats: torch.Tensor,
                    queries: Sequence[int],
                    batch_size: int,
                    k: int = 10,
                    k1: int = 10,
                    k2: int = 2,
                    num_layers: int = 2,
                    seed: int = 0) -> List[dict]:
    """For each query: a batch of ``batch_size`` (the query and random other
    samples) and the query's ``k`` Euclidean and ConAff neighbours in it, as
    dataset indices (self excluded, nearest first)."""
    feats = feats.float().cpu()
    n = feats.shape[0]
    if batch_size > n:
        raise ValueError(f'batch_size={batch_size} is larger than the {n} '
                         'samples')
    if k + 1 > batch_size:
        raise ValueError(f'k={k} needs batches of more than {k} samples')
    rng = np.random.default_rng(seed)
    out = []
    for q in queries:
        q = int(q)
        if not 0 <= q < n:
            raise IndexError(f'query index {q} is outside [0, {n})')
        others = rng.choice(np.delete(np.arange(n), q), batch_size - 1,
                            replace=False)
        batch = torch.from_numpy(np.concatenate([[q], others]))
        z = feats[batch]
        eu = local_neighbors(z, k + 1)[0, 1:]
        ca = conaff_neighbors(z, k + 1, k1, k2, num_layers)[0, 1:]
        out.append(dict(query=q, batch=batch, euclidean=batch[eu],
                        conaff=batch[ca]))
    return out
