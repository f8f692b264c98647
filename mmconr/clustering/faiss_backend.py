"""k-means with faiss (faiss-cpu or faiss-gpu, an optional dependency):
the ``backend='faiss'`` of :func:`mmconr.clustering.kmeans`.

faiss runs every point in every iteration here (no subsampling), k-means++
or random seeding, ``n_init`` runs keeping the lowest objective, spherical
centroids on request, and all ``max_iter`` iterations (it has no centre
shift criterion; ``tol`` is not used). Its random stream is its own, so a
seed gives other clusters than the PyTorch backend. On CUDA features it
uses a GPU index where faiss was built with GPU support.
"""
import importlib.util
from typing import Tuple

import numpy as np
import torch


def faiss_available() -> bool:
    """Whether a faiss with k-means++ seeding (1.8 and later) can be
    imported."""
    if importlib.util.find_spec('faiss') is None:
        return False
    import faiss
    return hasattr(faiss, 'ClusteringInitMethod_KMEANS_PLUS_PLUS')


def faiss_kmeans(x: torch.Tensor, k: int, n_init: int, max_iter: int,
                 seed: int, spherical: bool,
                 init: str) -> Tuple[torch.Tensor, torch.Tensor]:
    """(centroids (K, D), labels (N,)) on the CPU; ``x`` is float32."""
    if not faiss_available():
        raise ImportError(
            "backend='faiss' needs faiss with k-means++ seeding: pip install "
            "-U faiss-cpu (or faiss-gpu); backend='auto' falls back to the "
            'PyTorch k-means')
    import faiss
    points = np.ascontiguousarray(x.detach().cpu().numpy(), np.float32)
    n, dim = points.shape
    params = faiss.ClusteringParameters()
    params.niter = max_iter
    params.nredo = n_init
    params.seed = int(seed)
    params.spherical = bool(spherical)
    params.verbose = False
    params.max_points_per_centroid = -(-n // k) + 1  # every point
    params.min_points_per_centroid = 1
    params.init_method = (faiss.ClusteringInitMethod_KMEANS_PLUS_PLUS
                          if init == 'k-means++' else
                          faiss.ClusteringInitMethod_RANDOM)
    clustering = faiss.Clustering(dim, k, params)
    index = faiss.IndexFlatL2(dim)
    if x.is_cuda and hasattr(faiss, 'StandardGpuResources'):
        resources = faiss.StandardGpuResources()
        index = faiss.index_cpu_to_gpu(resources, x.device.index or 0,
                                       index)
    clustering.train(points, index)
    centroids = faiss.vector_to_array(clustering.centroids).reshape(k, dim)
    index.reset()
    index.add(centroids)
    _, labels = index.search(points, 1)
    return (torch.from_numpy(centroids.copy()),
            torch.from_numpy(labels[:, 0].astype(np.int64)))
