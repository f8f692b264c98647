"""Config surgery of the folder tool, in one place: point a config at an
image folder, set K, the image size, the number of epochs, and check that
the folder can be trained on (``tools/cluster_images.py``,
:func:`mmconr.apis.cluster_folder`)."""
import logging
import os.path as osp
from typing import Iterator, Optional, Sequence

from mmengine.config import Config
from mmengine.logging import print_log

from mmconr.clustering import check_num_clusters
from mmconr.models.neighborhoods.sizing import (batch_for_k, largest_k,
                                                neighborhood_from_k,
                                                suggest_neighborhood)
from mmconr.registry import MODELS
from .config import ConfigLike, hook_arg, load_config, set_hook_arg
from .paths import find_shipped, shipped_path

# shipped in mmconr/.mim/configs (installed) or the clone's configs/
DEFAULT_FOLDER_CONFIG_NAME = 'configs/custom/byol_conr_folder.py'
# its path (None if this mmconr ships no configs: folder_config then says
# where it looked)
DEFAULT_FOLDER_CONFIG = find_shipped(DEFAULT_FOLDER_CONFIG_NAME)
FOLDER_DATASET = 'UnlabeledImageFolder'


def loader_cfgs(cfg: Config) -> Iterator[dict]:
    """Every dataloader dict of a config (hooks' included)."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'feature_dataloader'):
        if cfg.get(key) is not None:
            yield cfg[key]
    for hook in cfg.get('custom_hooks', []) or []:
        if isinstance(hook.get('dataloader'), dict):
            yield hook['dataloader']


def iter_transforms(pipeline) -> Iterator[dict]:
    for item in pipeline or []:
        if isinstance(item, (list, tuple)):
            yield from iter_transforms(item)
        elif isinstance(item, dict):
            yield item
            yield from iter_transforms(item.get('transforms'))


def pipelines(cfg: Config) -> Iterator[list]:
    for loader in loader_cfgs(cfg):
        yield loader['dataset'].get('pipeline')
    for key, value in cfg.items():
        if key.endswith('pipeline') and isinstance(value, list):
            yield value


def set_image_size(cfg: Config, size: int) -> None:
    """Make every resize / crop transform of every pipeline produce
    ``size`` x ``size`` images (RandomResizedCrop, ResizeEdge, CenterCrop,
    Resize)."""
    if not isinstance(size, int) or size < 8:
        raise ValueError(f'img_size must be an integer >= 8, got {size!r}')
    changed = 0
    for pipeline in pipelines(cfg):
        for t in iter_transforms(pipeline):
            if t.get('type') in ('RandomResizedCrop', 'ResizeEdge'):
                t['scale'] = size
            elif t.get('type') == 'CenterCrop':
                t['crop_size'] = size
            elif t.get('type') == 'Resize':
                t['scale'] = (size, size)
            else:
                continue
            changed += 1
    if not changed:
        raise ValueError('img_size: the config has no resize or crop '
                         'transform whose size could be set')
    cfg.img_size = size


def set_epochs(cfg: Config, epochs: int) -> None:
    """Stretch the schedule to ``epochs``: every epoch-based scheduler
    boundary and the hooks' ``start_epoch`` / ``end_epoch`` keep their
    share of the run (at least one epoch each)."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f'epochs must be a positive integer, got {epochs!r}')
    old = cfg.train_cfg['max_epochs']
    scale = epochs / old

    def at(epoch, low=0):
        # a phase that does not start at 0 keeps at least one epoch before
        low = max(low, 1 if epoch > 0 else 0)
        return min(max(int(round(epoch * scale)), low), epochs)

    schedulers = cfg.get('param_scheduler') or []
    for sched in schedulers if isinstance(schedulers, list) else [schedulers]:
        if not sched.get('by_epoch', True):
            continue
        begin = min(at(sched.get('begin', 0)), epochs - 1)
        end = at(min(sched.get('end', old), old), begin + 1)
        sched.update(begin=begin, end=end)
        if 'T_max' in sched:
            sched['T_max'] = end - begin
    # read every hook's epochs before writing: hooks may share a config key
    hooks = [(hook, hook_arg(cfg, hook, 'start_epoch'),
              hook_arg(cfg, hook, 'end_epoch'))
             for hook in cfg.get('custom_hooks', []) or []]
    for hook, start, end in hooks:
        if start is None:
            continue
        start = min(at(start), epochs - 1)
        set_hook_arg(cfg, hook, 'start_epoch', start)
        if end is not None:
            set_hook_arg(cfg, hook, 'end_epoch', at(end, start + 1))
    cfg.train_cfg['max_epochs'] = epochs
    if 'max_epochs' in cfg:
        cfg.max_epochs = epochs


def folder_config(folder: str,
                  num_clusters: int,
                  config: Optional[ConfigLike] = None,
                  work_dir: Optional[str] = None,
                  img_size: Optional[int] = None,
                  epochs: Optional[int] = None,
                  batch_size: Optional[int] = None,
                  num_workers: Optional[int] = None,
                  max_images: Optional[int] = None,
                  labels_from: str = 'none',
                  cfg_options: Optional[dict] = None) -> Config:
    """``config`` (default ``configs/custom/byol_conr_folder.py``) pointed
    at ``folder`` with K = ``num_clusters``; ``cfg_options`` are applied
    last."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder not found: {folder}')
    check_num_clusters(num_clusters)
    path = config or DEFAULT_FOLDER_CONFIG or shipped_path(
        DEFAULT_FOLDER_CONFIG_NAME)
    cfg = load_config(path)
    found = False
    for loader in loader_cfgs(cfg):
        dataset = loader['dataset']
        if dataset.get('type') != FOLDER_DATASET:
            continue
        found = True
        dataset.update(data_root=folder, labels_from=labels_from,
                       max_images=max_images)
        if num_workers is not None:
            loader['num_workers'] = num_workers
            if num_workers == 0:
                loader['persistent_workers'] = False
    if not found:
        name = path if isinstance(path, str) else 'the config'
        raise ValueError(
            f'{name} has no {FOLDER_DATASET} dataset; use a config like '
            f'{DEFAULT_FOLDER_CONFIG_NAME}')
    cfg.num_clusters = num_clusters
    evaluators = cfg.get('test_evaluator') or []
    for evaluator in evaluators if isinstance(evaluators, list) else [
            evaluators
    ]:
        if evaluator.get('type') == 'ClusteringMetric':
            evaluator['num_clusters'] = num_clusters
    if img_size is not None:
        set_image_size(cfg, img_size)
    if epochs is not None:
        set_epochs(cfg, epochs)
    if batch_size is not None:
        cfg.train_dataloader['batch_size'] = batch_size
    if work_dir is not None:
        cfg.work_dir = work_dir
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def set_neighborhood(cfg: Config,
                     neighbors: Optional[Sequence[int]] = None) -> dict:
    """Set the model's neighbourhood sizes for the training batch
    (``train_dataloader.batch_size``, one process) and ``cfg.num_clusters``.

    ``neighbors``: ``(k,)`` (k1 and k2 from k by
    :func:`~mmconr.models.neighborhoods.neighborhood_from_k`) or ``(k, k1,
    k2)``; without it a ConAff neighbourhood gets
    :func:`~mmconr.models.neighborhoods.suggest_neighborhood`, k within the
    samples a batch holds of one cluster, with a warning when not even
    k = 1 is. A local neighbourhood takes k only. Returns the sizes set.
    """
    neighborhood = cfg.model.get('neighborhood')
    if neighborhood is None:
        raise ValueError("the config's model has no neighborhood to size")
    local = neighborhood.get('type') != 'ConAffNeighborhood'
    batch = cfg.train_dataloader['batch_size']
    if neighbors is not None:
        neighbors = [int(v) for v in neighbors]
        if len(neighbors) not in ((1, ) if local else (1, 3)) or min(
                neighbors) < 1:
            raise ValueError(
                f"neighbors must be {'k' if local else 'k or k k1 k2'} "
                f"(positive integers) for {neighborhood.get('type')}; got "
                f'{neighbors}')
        sizes = (neighborhood_from_k(neighbors[0], batch)
                 if len(neighbors) == 1 else dict(
                     zip(('k', 'k1', 'k2'), neighbors)))
        how = 'as given'
    else:
        sizes = suggest_neighborhood(batch, cfg.num_clusters)
        how = (f'for batches of {batch} and K={cfg.num_clusters}: k within '
               'the images a batch holds of one cluster')
        if largest_k(batch, cfg.num_clusters) < 1:
            print_log(
                f'batches of {batch} hold too few images of each of '
                f'{cfg.num_clusters} clusters for any neighbourhood: '
                'training with k=1 (each image its own neighbourhood); a '
                f'batch of at least {batch_for_k(1, cfg.num_clusters)} '
                'allows k=1 within the bound', logger='current',
                level=logging.WARNING)
    if local:
        sizes = dict(k=sizes['k'])
    neighborhood.update(sizes)
    print_log('neighbourhood ' + '/'.join(f'{n}={v}' for n, v in
                                          sizes.items()) + f' {how}',
              logger='current')
    return sizes


def allow_any_num_clusters(cfg: Config) -> None:
    """Let K differ from the number of classes the folder's subfolders
    declare (``match_classes=False`` of BoundaryFilterHook and
    ClusteringMetric): for a K that is being chosen."""
    evaluators = cfg.get('test_evaluator') or []
    for item in list(cfg.get('custom_hooks') or []) + (
            evaluators if isinstance(evaluators, list) else [evaluators]):
        if item.get('type') in ('BoundaryFilterHook', 'ClusteringMetric'):
            item['match_classes'] = False


def check_trainable(cfg: Config, num_images: int) -> None:
    """Enough images for K and for the neighbourhood; a batch no larger
    than the folder (drop_last would leave nothing to train on)."""
    if cfg.num_clusters > num_images:
        raise ValueError(f'num_clusters={cfg.num_clusters} is larger than '
                         f'the {num_images} readable images')
    neighborhood = cfg.model.get('neighborhood')
    min_batch = getattr(MODELS.build(neighborhood), 'min_batch_size',
                        1) if neighborhood else 1
    if num_images < min_batch:
        raise ValueError(
            f'only {num_images} readable images; ConNR needs a batch of at '
            f'least {min_batch} (the neighbourhood size)')
    batch = cfg.train_dataloader['batch_size']
    if batch > num_images:
        print_log(
            f'batch size {batch} > {num_images} images: training with '
            f'batches of {num_images}', logger='current',
            level=logging.WARNING)
        cfg.train_dataloader['batch_size'] = num_images
