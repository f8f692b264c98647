"""Cluster a folder of images: train (or load a checkpoint), embed, group,
and write what a person looks at (:func:`cluster_folder`); the config
surgery it needs is :mod:`mmconr.utils.config_surgery`."""
import csv
import os
import os.path as osp
import tempfile
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import torch

from mmconr.clustering import EVAL_KMEANS, kmeans_settings
from mmconr.clustering.k_selection import (DEFAULT_K_RANGE, KScore,
                                           choose_num_clusters, format_scores,
                                           k_values, parse_k_range,
                                           score_num_clusters)
from mmconr.clustering.saved import FILE_NAME as CLUSTERING_FILE
from mmconr.clustering.saved import config_json, save_clustering
from mmconr.engine import train_from_config
from mmconr.utils.config import ConfigLike
from mmconr.utils.config_surgery import (allow_any_num_clusters,
                                         check_trainable, folder_config,
                                         set_neighborhood)
from mmconr.utils.io import atomic_open
from mmconr.visualization import k_selection_figure, load_rgb
from .cluster_model import ClusterModel, check_confidence
from .clustering import Clustering, cluster_features
from .inference import build_dataloader, extract_features, init_model
from .report import cluster_report


class FolderClustering(NamedTuple):
    paths: List[str]  # relative to the folder, in sample order
    clustering: Clustering
    feats: torch.Tensor  # (N, D) L2-normalised target features
    gt_labels: torch.Tensor  # (N,), -1 unless labels_from='subfolder'
    skipped: List[Tuple[str, str]]  # (path, reason)
    checkpoint: str
    summary: dict


def check_writable(out_dir: str) -> None:
    """Fail now, not after training, if ``out_dir`` cannot take files."""
    try:
        os.makedirs(out_dir, exist_ok=True)
        tempfile.TemporaryFile(dir=out_dir).close()
    except OSError as exc:
        raise OSError(f'cannot write the results to {out_dir}: {exc}; '
                      'nothing was trained') from exc


def folder_loader(cfg):
    """The dataloader that embeds the folder (``feature_dataloader`` where
    the config has one)."""
    return build_dataloader(cfg, 'feature_dataloader' if cfg.get(
        'feature_dataloader') is not None else None)


def training_clusters(k_range: Tuple[int, int],
                      train_clusters: Optional[int]) -> int:
    """K of the training's per-epoch k-means when K is chosen after
    training: ``train_clusters``, else 10 (the paper's CIFAR-10 and
    ImageNet-10 setting) brought into ``k_range``."""
    if train_clusters is not None:
        return train_clusters
    return min(max(10, k_range[0]), k_range[1])


def choose_k(feats: torch.Tensor, k_range: Tuple[int, int], out_dir: str,
             kmeans_cfg: Optional[dict]) -> Tuple[int, dict]:
    """Score every K of ``k_range`` on ``feats``, write
    ``k_selection.png`` and ``k_selection.csv``, pick K by
    :func:`mmconr.clustering.k_selection.choose_num_clusters`."""
    scores = score_num_clusters(feats, k_values(k_range, feats.shape[0]),
                                kmeans_cfg=kmeans_cfg)
    chosen, reason = choose_num_clusters(scores)
    table = osp.join(out_dir, 'k_selection.csv')
    with atomic_open(table, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(KScore._fields)
        writer.writerows(scores)
    figure = k_selection_figure(
        [s.k for s in scores],
        {'silhouette (higher is better)': [s.silhouette for s in scores],
         'inertia': [s.inertia for s in scores],
         'stability (mean ARI across seeds)': [s.stability for s in scores]},
        chosen, osp.join(out_dir, 'k_selection.png'))
    print('\n'.join(format_scores(scores, chosen)))
    return chosen, dict(chosen=chosen, reason=reason, figure=figure,
                        table=table, scores=[s._asdict() for s in scores])


def folder_report(out_dir: str, dataset, clustering: Clustering,
                  feats: torch.Tensor, gt_labels: torch.Tensor,
                  checkpoint: str, per_sheet: int, extra: dict,
                  k_selection: Optional[dict] = None) -> FolderClustering:
    """:func:`cluster_report` of a folder's clustering (rows by path
    relative to the folder, images from their files) as a
    :class:`FolderClustering`."""
    paths = [dataset.relative_path(i) for i in range(len(dataset))]
    summary = cluster_report(
        out_dir,
        paths,
        clustering,
        lambda i: load_rgb(dataset.get_data_info(i)['img_path']),
        id_column='path',
        gt_labels=gt_labels.tolist(),
        skipped=dataset.skipped,
        per_sheet=per_sheet,
        extra=extra,
        class_names=dataset.metainfo.get('classes'),
        k_selection=k_selection)
    return FolderClustering(paths, clustering, feats, gt_labels,
                            list(dataset.skipped), checkpoint, summary)


def cluster_folder(folder: str,
                   num_clusters: Union[int, str],
                   out_dir: str,
                   config: Optional[ConfigLike] = None,
                   checkpoint: Optional[str] = None,
                   img_size: Optional[int] = None,
                   epochs: Optional[int] = None,
                   batch_size: Optional[int] = None,
                   num_workers: Optional[int] = None,
                   max_images: Optional[int] = None,
                   labels_from: str = 'none',
                   kmeans_cfg: Optional[dict] = None,
                   per_sheet: int = 64,
                   device: Optional[str] = None,
                   cfg_options: Optional[dict] = None,
                   k_range: Optional[Tuple[int, int]] = None,
                   train_clusters: Optional[int] = None,
                   neighbors: Optional[Sequence[int]] = None
                   ) -> FolderClustering:
    """Cluster every readable image under ``folder`` into ``num_clusters``.

    Without ``checkpoint`` ConNR is first trained on the folder (logs and
    checkpoints in ``out_dir/train``); with one, the images are only
    embedded. ``num_clusters='auto'`` chooses K in ``k_range`` (default
    2..30) on the embedded features (``k_selection.png`` / ``.csv``); the
    training then runs its per-epoch k-means with ``train_clusters``
    (default: 10 brought into the range). The training's neighbourhood is
    ``neighbors`` (``(k,)`` or ``(k, k1, k2)``) or, for the default config
    without ``cfg_options`` on ``model.neighborhood``, chosen from the
    training batch and K
    (:func:`mmconr.utils.config_surgery.set_neighborhood`). Writes into
    ``out_dir``:
    ``assignments.csv`` (path relative to the folder, cluster, distance to
    the centroid, boundary ratio), ``clustering.safetensors`` (the
    centroids and where they came from, for
    :class:`mmconr.apis.ClusterModel` and ``tools/assign_images.py``),
    ``clusters/cluster_XX.png`` (most central images first),
    ``report/index.html`` and ``summary.json`` (cluster sizes, skipped
    files).
    """
    sets_neighborhood = any(
        key.startswith('model.neighborhood') for key in cfg_options or {})
    if neighbors is not None and (checkpoint is not None
                                  or sets_neighborhood):
        raise ValueError(
            'neighbors sizes the training\'s neighbourhood: it cannot be '
            'given with a checkpoint (nothing is trained) or with '
            'cfg_options that set model.neighborhood')
    auto = num_clusters == 'auto'
    if auto:
        k_range = tuple(k_range or DEFAULT_K_RANGE)
        parse_k_range(f'{k_range[0]}:{k_range[1]}')
        fit_clusters = training_clusters(k_range, train_clusters)
    elif k_range is not None:
        raise ValueError("k_range is for num_clusters='auto'")
    else:
        fit_clusters = num_clusters
    cfg = folder_config(folder, fit_clusters, config,
                        osp.join(out_dir, 'train'), img_size, epochs,
                        batch_size, num_workers, max_images, labels_from,
                        cfg_options)
    if auto:
        allow_any_num_clusters(cfg)
    loader = folder_loader(cfg)
    dataset = loader.dataset
    # before any training that could be lost: the results can be written,
    # the config can be saved with them, the checkpoint given is there
    check_writable(out_dir)
    config_json(cfg.to_dict())
    if auto:
        k_values(k_range, len(dataset))
    if checkpoint is None:
        if auto and fit_clusters > len(dataset):
            raise ValueError(
                f'the training\'s per-epoch k-means needs K <= the '
                f'{len(dataset)} readable images; give a smaller '
                f'train_clusters (--train-clusters) than {fit_clusters}')
        check_trainable(cfg, len(dataset))  # may shrink the batch
        if neighbors is not None or (config is None
                                     and not sets_neighborhood):
            set_neighborhood(cfg, neighbors)
        checkpoint = train_from_config(cfg)
    model = init_model(cfg, checkpoint, device)
    feats, gt_labels = extract_features(model, loader)
    kmeans_cfg = kmeans_cfg or (cfg.get('test_evaluator') or {}).get(
        'kmeans_cfg')
    k_selection = None
    if auto:
        num_clusters, k_selection = choose_k(feats, k_range, out_dir,
                                             kmeans_cfg)
    if num_clusters > feats.shape[0]:
        raise ValueError(f'num_clusters={num_clusters} is larger than the '
                         f'{feats.shape[0]} readable images')
    clustering = cluster_features(feats, num_clusters, kmeans_cfg)
    saved = save_clustering(
        osp.join(out_dir, CLUSTERING_FILE), clustering.centroids,
        cfg.to_dict(), checkpoint,
        kmeans_cfg=kmeans_settings(EVAL_KMEANS, kmeans_cfg))
    return folder_report(
        out_dir, dataset, clustering, feats, gt_labels, checkpoint,
        per_sheet, dict(folder=osp.abspath(folder), checkpoint=checkpoint,
                        clustering=osp.relpath(saved, out_dir)),
        k_selection)


def assign_folder(model: ClusterModel,
                  folder: str,
                  out_dir: str,
                  min_confidence: float = 0.0,
                  num_workers: Optional[int] = None,
                  max_images: Optional[int] = None,
                  labels_from: str = 'none',
                  per_sheet: int = 64) -> FolderClustering:
    """Assign every readable image under ``folder`` to the existing
    clusters of ``model`` (nearest centroid, no k-means) and write the
    same files as :func:`cluster_folder` (no ``clustering.safetensors``:
    the clustering is ``model``'s). Images whose confidence (1 - boundary
    ratio) is below ``min_confidence`` get the cluster -1 (unassigned).
    """
    check_confidence(min_confidence)
    try:
        cfg = folder_config(folder, model.num_clusters, model.cfg, None,
                            num_workers=num_workers, max_images=max_images,
                            labels_from=labels_from)
    except ValueError as exc:
        if 'has no' not in str(exc):
            raise
        raise ValueError(
            f'clustering {model.saved.path} was made with a config whose '
            'dataset is not an image folder; assigning a folder needs a '
            'clustering of tools/cluster_images.py (a folder config). Use '
            'ClusterModel.predict() on images or arrays instead') from None
    allow_any_num_clusters(cfg)  # K is the clustering's, whatever the labels
    loader = folder_loader(cfg)
    dataset = loader.dataset
    check_writable(out_dir)
    feats, gt_labels = extract_features(model.model, loader)
    clustering = model.assign(feats)
    prediction = model.prediction(clustering, min_confidence)
    clustering = clustering._replace(labels=prediction.clusters)
    return folder_report(
        out_dir, dataset, clustering, feats, gt_labels,
        model.saved.checkpoint, per_sheet,
        dict(folder=osp.abspath(folder),
             clustering=osp.abspath(model.saved.path),
             min_confidence=min_confidence))
