"""A clustering saved for reuse on new data (``clustering.safetensors``).

The file is a safetensors file: two tensors and a table of strings, parsed
without any unpickling, so loading it cannot run code. It holds

* ``centroids`` (K, D) float32: the k-means centres of the L2-normalised
  target features (unit-norm rows for the default spherical k-means);
* ``cluster_ids`` (K,) int64: the cluster id of each centroid row, the ids
  ``assignments.csv`` uses (this version writes and reads 0 .. K-1 in row
  order);
* metadata: the format tag and version, K, D, the feature normalisation,
  the config the features came from (as JSON, never as Python), the
  checkpoint's path and SHA-256, the k-means settings and the mmconr version.

:func:`load_clustering` checks all of it and refuses, naming the file and
the problem, anything else: another file type, another format or version, a
missing or extra tensor, shapes that disagree with K and D, ids that repeat,
non-finite centroids, metadata that is not what :func:`save_clustering`
writes.
"""
import json
import os.path as osp
from typing import NamedTuple, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from mmconr.utils.io import atomic_open, file_sha256
from mmconr.version import __version__

FORMAT = 'mmconr-clustering'
VERSION = '1'
FILE_NAME = 'clustering.safetensors'
NORMALIZATION = 'l2'  # features are L2-normalised before the centroids
META_KEYS = ('format', 'version', 'num_clusters', 'feature_dim',
             'normalization', 'config', 'checkpoint', 'checkpoint_sha256',
             'kmeans', 'mmconr_version')
# a bigger file is not one this module wrote (K x D floats and a config)
MAX_BYTES = 1 << 30


class SavedClustering(NamedTuple):
    centroids: torch.Tensor  # (K, D) float32
    cluster_ids: torch.LongTensor  # (K,) id of each centroid row
    config: dict  # the config the features came from
    checkpoint: str  # path of the checkpoint, as saved
    checkpoint_sha256: str
    kmeans: dict  # settings of the k-means that made the centroids
    mmconr_version: str
    path: Optional[str] = None  # the file it was loaded from

    @property
    def num_clusters(self) -> int:
        return self.centroids.shape[0]

    @property
    def feature_dim(self) -> int:
        return self.centroids.shape[1]


def config_json(config: dict) -> str:
    """``config`` as canonical JSON (sorted keys); values that JSON cannot
    hold are refused with their key."""

    def check(value, where):
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(f'config key {where}{key!r} is not a '
                                    'string; cannot save it as JSON')
                check(item, f'{where}{key}.')
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                check(item, f'{where}{i}.')
        elif not (value is None or isinstance(value, (str, int, float))):
            raise TypeError(
                f'config value {where.rstrip(".")} is a '
                f'{type(value).__name__}; a saved clustering keeps the '
                'config as JSON (strings, numbers, lists, dicts)')

    check(config, '')
    return json.dumps(config, sort_keys=True)


def save_clustering(path: str,
                    centroids: torch.Tensor,
                    config: dict,
                    checkpoint: str,
                    cluster_ids: Optional[torch.Tensor] = None,
                    kmeans_cfg: Optional[dict] = None,
                    checkpoint_sha256: Optional[str] = None) -> str:
    """Write the clustering file ``path`` whole or not at all.

    Args:
        centroids: (K, D) centres of the L2-normalised features.
        config: the config (a plain dict, e.g. ``cfg.to_dict()``) whose
            model and feature pipeline produced the features.
        checkpoint: the checkpoint file of that model (hashed here unless
            ``checkpoint_sha256`` is given).
        cluster_ids: id of each centroid row (default 0 .. K-1).
        kmeans_cfg: the k-means settings, for the record.
    """
    centroids = centroids.detach().float().cpu().contiguous()
    if centroids.dim() != 2 or centroids.shape[0] < 2:
        raise ValueError('centroids must be (K, D) with K >= 2, got shape '
                         f'{tuple(centroids.shape)}')
    k = centroids.shape[0]
    ids = torch.arange(k) if cluster_ids is None else \
        torch.as_tensor(cluster_ids).long().cpu().contiguous()
    check_tensors(centroids, ids, k, centroids.shape[1], path)
    meta = dict(
        format=FORMAT,
        version=VERSION,
        num_clusters=str(k),
        feature_dim=str(centroids.shape[1]),
        normalization=NORMALIZATION,
        config=config_json(config),
        checkpoint=osp.abspath(checkpoint),
        checkpoint_sha256=checkpoint_sha256 or file_sha256(checkpoint),
        kmeans=json.dumps(kmeans_cfg or {}, sort_keys=True),
        mmconr_version=__version__)
    data = save_safetensors(dict(centroids=centroids, cluster_ids=ids), meta)
    with atomic_open(path, 'wb') as f:
        f.write(data)
    return path


def check_tensors(centroids: torch.Tensor, ids: torch.Tensor, k: int,
                  dim: int, path: str) -> None:
    if centroids.dtype != torch.float32 or tuple(centroids.shape) != (k, dim):
        raise ValueError(
            f'{path}: centroids must be float32 of shape ({k}, {dim}), got '
            f'{centroids.dtype} {tuple(centroids.shape)}')
    if not torch.isfinite(centroids).all():
        raise ValueError(f'{path}: centroids contain NaN or inf')
    if ids.dtype != torch.int64 or tuple(ids.shape) != (k, ):
        raise ValueError(f'{path}: cluster_ids must be int64 of shape '
                         f'({k},), got {ids.dtype} {tuple(ids.shape)}')
    if not torch.equal(ids, torch.arange(k)):
        raise ValueError(f'{path}: cluster_ids must be 0 .. {k - 1} in row '
                         f'order, got {ids.tolist()}')


def _positive_int(meta: dict, key: str, path: str) -> int:
    value = meta[key]
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f'{path}: metadata {key}={value!r} is not a '
                         'positive integer')
    return int(value)


def _json(meta: dict, key: str, path: str) -> dict:
    try:
        value = json.loads(meta[key])
    except ValueError as exc:
        raise ValueError(f'{path}: metadata {key} is not valid JSON: '
                         f'{exc}') from None
    if not isinstance(value, dict):
        raise ValueError(f'{path}: metadata {key} must be a JSON object, '
                         f'got {type(value).__name__}')
    return value


def read_metadata(data: bytes, path: str) -> dict:
    """The metadata table of safetensors bytes (the 8-byte header length,
    then a JSON header), checked to be a flat table of strings."""
    if len(data) < 8:
        raise ValueError(f'{path} is not a clustering file (too short)')
    size = int.from_bytes(data[:8], 'little')
    try:
        header = json.loads(data[8:8 + size].decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f'{path} is not a clustering file: no safetensors '
                         'header') from None
    meta = header.get('__metadata__') if isinstance(header, dict) else None
    if not isinstance(meta, dict) or not all(
            isinstance(v, str) for v in meta.values()):
        raise ValueError(f'{path} is not a clustering file: its metadata is '
                         'missing or not a table of strings')
    return meta


def load_clustering(path: str) -> SavedClustering:
    """Read and check a file written by :func:`save_clustering`."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'clustering file not found: {path}')
    if osp.getsize(path) > MAX_BYTES:
        raise ValueError(f'{path} is not a clustering file: '
                         f'{osp.getsize(path)} bytes')
    with open(path, 'rb') as f:
        data = f.read()
    meta = read_metadata(data, path)
    if meta.get('format') != FORMAT:
        raise ValueError(f'{path} is not a clustering file of mmconr '
                         f'(format {meta.get("format")!r}, expected '
                         f'{FORMAT!r})')
    if meta.get('version') != VERSION:
        raise ValueError(f'{path}: clustering format version '
                         f'{meta.get("version")!r} is not supported (this '
                         f'mmconr reads version {VERSION})')
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise ValueError(f'{path}: metadata lacks {", ".join(missing)}')
    unknown = sorted(set(meta) - set(META_KEYS))
    if unknown:
        raise ValueError(f'{path}: unknown metadata {", ".join(unknown)}')
    if meta['normalization'] != NORMALIZATION:
        raise ValueError(f'{path}: feature normalisation '
                         f'{meta["normalization"]!r} is not supported')
    k = _positive_int(meta, 'num_clusters', path)
    dim = _positive_int(meta, 'feature_dim', path)
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise ValueError(f'{path} is not a valid safetensors file: '
                         f'{exc}') from None
    if set(tensors) != {'centroids', 'cluster_ids'}:
        raise ValueError(f'{path}: expected the tensors centroids and '
                         f'cluster_ids, found {sorted(tensors)}')
    if k < 2:
        raise ValueError(f'{path}: num_clusters={k}, at least 2 needed')
    check_tensors(tensors['centroids'], tensors['cluster_ids'], k, dim, path)
    return SavedClustering(
        centroids=tensors['centroids'],
        cluster_ids=tensors['cluster_ids'],
        config=_json(meta, 'config', path),
        checkpoint=meta['checkpoint'],
        checkpoint_sha256=meta['checkpoint_sha256'],
        kmeans=_json(meta, 'kmeans', path),
        mmconr_version=meta['mmconr_version'],
        path=path)
