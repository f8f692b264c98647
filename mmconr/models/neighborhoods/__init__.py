"""Neighbourhood retrieval: ConAff (paper Eq. 3-7) and local cosine k-NN.

``topk`` (deterministic top-k, chunked k-NN) <- ``dense`` (the reference
formulation) <- ``sparse`` (sparse CPU rows) <- ``conaff`` (chooses the
path) <- ``modules`` (registered modules a config names); ``checks`` holds
the argument validator they all use; ``sizing`` how large a
neighbourhood a batch can fill from one cluster.
"""
from .checks import check_args, check_feats
from .conaff import SPARSE_MIN_BATCH, conaff_neighbors
from .dense import conaff_affinity, local_neighbors
from .modules import ConAffNeighborhood, LocalNeighborhood
from .purity import neighbor_purity
from .sizing import (MAX_SHARE, neighborhood_from_k, neighborhood_size_problem,
                     suggest_neighborhood)
from .topk import cosine_knn, gram_topk, ordered_topk

__all__ = [
    'check_args', 'check_feats', 'SPARSE_MIN_BATCH', 'conaff_neighbors',
    'conaff_affinity', 'local_neighbors', 'ConAffNeighborhood',
    'LocalNeighborhood', 'neighbor_purity', 'cosine_knn', 'gram_topk',
    'ordered_topk', 'MAX_SHARE', 'neighborhood_from_k',
    'neighborhood_size_problem', 'suggest_neighborhood'
]
