"""A trained model and a saved clustering: assign new images to existing
clusters, without k-means (:class:`ClusterModel`)."""
import json
import os.path as osp
from functools import partial
from typing import NamedTuple, Optional, Sequence

import mmengine.registry as mmengine_registry
import mmpretrain.registry as mmpretrain_registry
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import FUNCTIONS, Registry
from PIL import Image

from mmconr import registry as mmconr_registry
from mmconr.clustering import assign_to_centroids
from mmconr.clustering.features import batch_target_features
from mmconr.clustering.saved import SavedClustering, load_clustering
from mmconr.utils import register_all_modules
from mmconr.utils.config import ConfigLike, load_config
from mmconr.utils.io import file_sha256
from .clustering import Clustering, describe
from .inference import feature_loader_key, init_model


class Prediction(NamedTuple):
    clusters: torch.LongTensor  # (N,) cluster id, -1 where unassigned
    confidences: torch.Tensor  # (N,) 1 - boundary ratio, in [0, 1]
    distances: torch.Tensor  # (N,) distance to the nearest centroid
    boundary_ratios: torch.Tensor  # (N,) Eq. 9-11 against that centroid


# A config read from a clustering file is built only from modules defined
# here: models, layers, transforms, samplers and collate functions that
# construct from their arguments alone. Elsewhere (and TIMMBackbone below)
# constructors load code or weights from other libraries or the network
# (HuggingFaceClassifier, TimmClassifier, tokenizers).
SAFE_MODULES = ('mmconr.', 'mmpretrain.models.backbones',
                'mmpretrain.models.necks', 'mmpretrain.models.heads',
                'mmpretrain.models.losses', 'mmpretrain.models.selfsup',
                'mmpretrain.models.utils.data_preprocessor',
                'mmpretrain.models.utils.norm',
                'mmpretrain.datasets.transforms', 'mmcv.transforms',
                'mmcv.cnn.bricks', 'torch.nn.modules', 'mmengine.model',
                'mmengine.dataset.sampler', 'mmengine.dataset.utils')
UNSAFE_NAMES = ('TIMMBackbone', )


def safe_names() -> tuple:
    """(names, scopes): the names every registration of which is a class or
    function of :data:`SAFE_MODULES`, and the scopes of mmconr's, mmpretrain's
    and mmengine's registries."""
    register_all_modules(init_default_scope=False)
    modules, scopes = {}, set()
    registries = [
        value for module in (mmconr_registry, mmpretrain_registry,
                             mmengine_registry)
        for value in vars(module).values()
    ]
    for reg in registries:
        while isinstance(reg, Registry):
            reg.import_from_location()
            scopes.add(reg.scope)
            for name, obj in reg.module_dict.items():
                modules.setdefault(name, set()).add(
                    getattr(obj, '__module__', None) or '')
            reg = reg.parent
    names = {
        name for name, where in modules.items()
        if name not in UNSAFE_NAMES and all(
            m.startswith(SAFE_MODULES) for m in where)
    }
    return names, scopes


def check_registered_types(config: dict, source: str) -> None:
    """Refuse a config that names a module outside :data:`SAFE_MODULES`
    (MMEngine imports and calls any dotted name it does not find in a
    registry) or a scope that is not a registry's (MMEngine imports
    ``<scope>.registry``)."""
    names, scopes = safe_names()

    def refuse(where, what):
        raise ValueError(
            f'{source}: {where} is {what}; refused (a saved config may only '
            'name the models, layers and transforms mmconr builds safely)')

    def walk(value, where):
        if isinstance(value, dict):
            kind = value.get('type')
            if kind is not None:
                scope, _, name = kind.rpartition('.') if isinstance(
                    kind, str) else ('', '', None)
                if name not in names or (scope and scope not in scopes):
                    refuse(f'{where or "config"}.type={kind!r}',
                           'not a module mmconr may build from a saved file')
            for key in ('_scope_', 'default_scope'):
                if key in value and value[key] not in scopes:
                    refuse(f'{where or "config"}.{key}={value[key]!r}',
                           'not a registry scope')
            for key, item in value.items():
                walk(item, f'{where}.{key}' if where else str(key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f'{where}[{i}]')

    walk(config, '')


# what ClusterModel builds from a config: the model and the loader that
# embeds images (the rest of a saved config, e.g. the training schedule,
# is kept in the file for the record only)
BUILT_KEYS = ('model', 'feature_dataloader', 'test_dataloader')


def buildable_config(config: dict, source: str) -> dict:
    """The sections of a saved config that :class:`ClusterModel` builds,
    checked by :func:`check_registered_types`."""
    if not isinstance(config.get('model'), dict):
        raise ValueError(f'{source}: the saved config has no model')
    built = {key: config[key] for key in BUILT_KEYS
             if config.get(key) is not None}
    check_registered_types(built, source)
    if 'default_scope' in config:  # load_config initialises it
        check_registered_types({'default_scope': config['default_scope']},
                               source)
        built['default_scope'] = config['default_scope']
    return built


def feature_sections(cfg: dict) -> dict:
    """The parts of a config that decide the features: the model and the
    pipeline of the feature dataloader (canonical JSON)."""
    key = feature_loader_key(Config(cfg))
    return dict(
        model=json.dumps(cfg.get('model'), sort_keys=True),
        pipeline=json.dumps(cfg[key]['dataset'].get('pipeline'),
                            sort_keys=True))


def is_load_transform(transform: dict) -> bool:
    return 'LoadImage' in str(transform.get('type', ''))


class ClusterModel:
    """A model and the clusters it was used to make.

    ``ClusterModel.load('W/clustering.safetensors')`` rebuilds the model
    from the config saved in the file (its model and feature loader only,
    from the modules of :data:`SAFE_MODULES`; :func:`check_registered_types`
    refuses anything else) and loads the checkpoint the file names, after
    checking its SHA-256; ``checkpoint=`` and ``config=`` give other paths
    for the same files and are refused when they are not the ones the
    clustering was made with. :meth:`predict` embeds images and assigns
    each to the nearest centroid.
    """

    def __init__(self, model, saved: SavedClustering) -> None:
        self.model = model
        self.saved = saved
        self.cfg = model.cfg
        self.centroids = saved.centroids
        self.cluster_ids = saved.cluster_ids

    @classmethod
    def load(cls,
             clustering: str,
             checkpoint: Optional[str] = None,
             config: Optional[ConfigLike] = None,
             device: Optional[str] = None) -> 'ClusterModel':
        saved = load_clustering(clustering)
        if config is None:
            cfg = Config(buildable_config(saved.config, clustering))
        else:
            cfg = load_config(config)
            name = config if isinstance(config, str) else 'the config given'
            ours, theirs = feature_sections(
                cfg.to_dict()), feature_sections(saved.config)
            for section in ('model', 'pipeline'):
                if ours[section] != theirs[section]:
                    raise ValueError(
                        f'config {name} does not belong to clustering '
                        f'{clustering}: its {section} differs from the one '
                        'the clustering was made with')
        if checkpoint is None:
            checkpoint = saved.checkpoint
            if not osp.isfile(checkpoint):
                raise FileNotFoundError(
                    f'the checkpoint that clustering {clustering} was made '
                    f'from, {checkpoint}, is not there; give its new path '
                    '(--checkpoint)')
        elif not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        digest = file_sha256(checkpoint)
        if digest != saved.checkpoint_sha256:
            raise ValueError(
                f'checkpoint {checkpoint} does not belong to clustering '
                f'{clustering}: its SHA-256 is {digest[:12]}..., the '
                f'clustering was made from {saved.checkpoint_sha256[:12]}... '
                f'({saved.checkpoint})')
        model = init_model(cfg, checkpoint, device)
        return cls(model, saved)

    @property
    def num_clusters(self) -> int:
        return self.saved.num_clusters

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # embedding -----------------------------------------------------------

    def _pipelines(self):
        loader = self.cfg[feature_loader_key(self.cfg)]
        pipeline = list(loader['dataset'].get('pipeline') or [])
        collate = dict(loader.get('collate_fn') or dict(
            type='pseudo_collate'))
        collate_fn = partial(FUNCTIONS.get(collate.pop('type')), **collate)
        from_path = Compose(pipeline)
        from_array = Compose([t for t in pipeline
                              if not is_load_transform(t)])
        return from_path, from_array, collate_fn, loader.get('batch_size', 64)

    def _as_item(self, image, index: int) -> tuple:
        """(use_path_pipeline, results dict) for one input."""
        if isinstance(image, (str, bytes)) or hasattr(image, '__fspath__'):
            path = str(image) if not isinstance(image, bytes) else \
                image.decode('utf-8', 'surrogateescape')
            if not osp.isfile(path):
                raise FileNotFoundError(f'image not found: {path}')
            return True, dict(img_path=path, sample_idx=index)
        if isinstance(image, Image.Image):
            image = np.asarray(image.convert('RGB'))
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim not in (2, 3) or (
                array.ndim == 3 and array.shape[2] not in (1, 3)):
            raise ValueError(
                f'input {index}: expected a path, a PIL image or a uint8 '
                f'array (H, W) or (H, W, 3) in RGB, got {array.dtype} of '
                f'shape {array.shape}')
        if array.ndim == 2:
            array = array[..., None]
        if array.shape[2] == 1:  # grey: three equal channels, as decoded
            array = np.repeat(array, 3, axis=2)
        if self._wants_bgr():
            array = array[..., ::-1]
        array = np.ascontiguousarray(array)
        return False, dict(img=array, img_shape=array.shape[:2],
                           ori_shape=array.shape[:2], sample_idx=index)

    def _wants_bgr(self) -> bool:
        """The model's preprocessor turns BGR into RGB (images loaded by
        mmcv are BGR), so an RGB array is flipped first."""
        pre = self.cfg.model.get('data_preprocessor') or {}
        return bool(pre.get('to_rgb', pre.get('bgr_to_rgb', False)))

    def embed(self, images: Sequence, batch_size: Optional[int] = None
              ) -> torch.Tensor:
        """(N, D) L2-normalised target features of ``images`` (paths, PIL
        images or uint8 RGB / grey arrays), on the CPU; on CUDA under fp16
        autocast, as the feature pass of :func:`cluster_folder`."""
        from_path, from_array, collate_fn, default_batch = self._pipelines()
        batch_size = batch_size or default_batch
        feats = []
        on_cuda = self.device.type == 'cuda'
        with torch.inference_mode(), torch.autocast(
                'cuda', dtype=torch.float16, enabled=on_cuda):
            for start in range(0, len(images), batch_size):
                batch = []
                for i, image in enumerate(images[start:start + batch_size],
                                          start):
                    use_path, item = self._as_item(image, i)
                    batch.append((from_path if use_path else from_array)(
                        item))
                data = self.model.data_preprocessor(collate_fn(batch), False)
                feats.append(
                    batch_target_features(self.model, data['inputs']).cpu())
        if not feats:
            return torch.empty(0, self.saved.feature_dim)
        feats = torch.cat(feats)
        self._check_dim(feats)
        return feats

    def _check_dim(self, feats: torch.Tensor) -> None:
        if feats.shape[1] != self.saved.feature_dim:
            raise ValueError(
                f'the model gives {feats.shape[1]}-d features but clustering '
                f'{self.saved.path} has {self.saved.feature_dim}-d centroids')

    # assigning -----------------------------------------------------------

    def assign(self, feats: torch.Tensor) -> Clustering:
        """The nearest centroid of each feature row (k-means' assignment
        step on the L2-normalised features), with distances and boundary
        ratios; labels are centroid rows (see :attr:`cluster_ids`)."""
        self._check_dim(feats)
        z = F.normalize(feats.float().cpu(), dim=1)
        labels, _ = assign_to_centroids(z, self.centroids)
        empty = Clustering(labels, self.centroids, torch.empty(0),
                           torch.empty(0))
        return describe(empty, z)

    def predict(self, images: Sequence, min_confidence: float = 0.0,
                batch_size: Optional[int] = None) -> Prediction:
        """Cluster id and confidence of every image; images whose
        confidence is below ``min_confidence`` get the id -1."""
        check_confidence(min_confidence)
        return self.prediction(
            self.assign(self.embed(list(images), batch_size)),
            min_confidence)

    def prediction(self, clustering: Clustering,
                   min_confidence: float = 0.0) -> Prediction:
        confidences = confidence(clustering.boundary_ratios)
        clusters = self.cluster_ids[clustering.labels]
        clusters = torch.where(confidences < min_confidence,
                               torch.full_like(clusters, -1), clusters)
        return Prediction(clusters, confidences, clustering.distances,
                          clustering.boundary_ratios)


def confidence(boundary_ratios: torch.Tensor) -> torch.Tensor:
    """``1 - r``: 1 at a centroid, 0 half-way to the next one (a sample is
    assigned to its nearest centroid, so r <= 1)."""
    return (1.0 - boundary_ratios).clamp(0.0, 1.0)


def check_confidence(min_confidence: float) -> float:
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(
            f'min_confidence must lie in [0, 1], got {min_confidence!r}')
    return float(min_confidence)
