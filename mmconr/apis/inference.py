"""A trained model and its target features, outside a training run."""
import os.path as osp
from typing import Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import Runner, load_checkpoint

from mmconr.clustering import extract_dataset_features
from mmconr.registry import MODELS
from mmconr.utils.config import ConfigLike, load_config


def default_device() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def init_model(config: ConfigLike,
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None):
    """Build the model of ``config``, load ``checkpoint`` strictly (a
    checkpoint written by tools/train.py for that config, or converted by
    tools/model_converters/), and put it in eval mode on ``device``.

    SyncBN layers become BN (one process); ``model.cfg`` is the config.
    """
    cfg = load_config(config, cfg_options)
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'extract_target_feat'):
        raise TypeError(
            f'{type(model).__name__} (model.type of the config) has no '
            'extract_target_feat(); the tools need a ConNR-style model')
    model = revert_sync_batchnorm(model)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        try:
            load_checkpoint(model, checkpoint, map_location='cpu',
                            strict=True, logger='silent')
        except RuntimeError as exc:
            raise RuntimeError(
                f'checkpoint {checkpoint} does not fit the model of the '
                f'config: {exc}') from exc
    model.cfg = cfg
    return model.to(device or default_device()).eval()


def feature_loader_key(cfg: Config) -> str:
    """The dataloader over the training set with the test pipeline:
    ``feature_dataloader`` where the config has one, else
    ``test_dataloader``."""
    for key in ('feature_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            return key
    raise KeyError('the config has neither feature_dataloader nor '
                   'test_dataloader; cannot embed its dataset')


def build_dataloader(cfg: Config, key: Optional[str] = None,
                     num_workers: Optional[int] = None):
    """Build ``cfg[key]`` (default: :func:`feature_loader_key`), never
    shuffled."""
    key = key or feature_loader_key(cfg)
    loader_cfg = cfg[key].copy()
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
        if num_workers == 0:
            loader_cfg['persistent_workers'] = False
    sampler = loader_cfg.get('sampler') or {}
    if sampler.get('shuffle', False):
        raise ValueError(f'{key} shuffles; embedding needs a fixed order')
    return Runner.build_dataloader(loader_cfg, seed=cfg.get(
        'randomness', {}).get('seed', 0))


def extract_features(model, dataloader, show_progress: bool = True
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised target features of every sample of the loader's
    dataset (by dataset index, progress bar on) and their ground-truth
    labels (-1 where none), both on the CPU."""
    feats, labels = extract_dataset_features(model, dataloader,
                                             show_progress=show_progress)
    return feats.cpu(), labels.cpu()


def embed_dataset(config: ConfigLike,
                  checkpoint: str,
                  device: Optional[str] = None,
                  num_workers: Optional[int] = None,
                  cfg_options: Optional[dict] = None):
    """The model of a config + checkpoint and the target features of its
    training set with the test pipeline (``feature_dataloader``, else
    ``test_dataloader``).

    Returns:
        (model, dataset, feats (N, D), gt_labels (N,) with -1 where none).
    """
    model = init_model(config, checkpoint, device, cfg_options)
    loader = build_dataloader(model.cfg, num_workers=num_workers)
    feats, labels = extract_features(model, loader)
    return model, loader.dataset, feats, labels


def neighborhood_args(model) -> dict:
    """k1 / k2 / num_layers of the model's ConAff neighbourhood (the paper's
    10 / 2 / 2 where the model has another neighbourhood)."""
    nbr = getattr(model, 'neighborhood', None)
    return dict(
        k1=getattr(nbr, 'k1', 10),
        k2=getattr(nbr, 'k2', 2),
        num_layers=getattr(nbr, 'num_layers', 2))
