"""Cluster a folder of images: train (or load a checkpoint), embed, group,
and write what a person looks at (:func:`cluster_folder`); the config
surgery it needs is :mod:`mmconr.utils.config_surgery`."""
import os
import os.path as osp
import tempfile
from typing import List, NamedTuple, Optional, Tuple

import torch

from mmconr.engine import train_from_config
from mmconr.utils.config import ConfigLike
from mmconr.utils.config_surgery import check_trainable, folder_config
from mmconr.visualization import load_rgb
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


def cluster_folder(folder: str,
                   num_clusters: int,
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
                   cfg_options: Optional[dict] = None) -> FolderClustering:
    """Cluster every readable image under ``folder`` into ``num_clusters``.

    Without ``checkpoint`` ConNR is first trained on the folder (logs and
    checkpoints in ``out_dir/train``); with one, the images are only
    embedded. Writes ``out_dir/assignments.csv`` (path relative to the
    folder, cluster, distance to the centroid, boundary ratio),
    ``out_dir/clusters/cluster_XX.png`` (most central images first) and
    ``out_dir/summary.json`` (cluster sizes, skipped files).
    """
    cfg = folder_config(folder, num_clusters, config,
                        osp.join(out_dir, 'train'), img_size, epochs,
                        batch_size, num_workers, max_images, labels_from,
                        cfg_options)
    loader = build_dataloader(cfg, 'feature_dataloader' if cfg.get(
        'feature_dataloader') is not None else None)
    dataset = loader.dataset
    check_writable(out_dir)  # before any training that could be lost
    if checkpoint is None:
        check_trainable(cfg, len(dataset))
        checkpoint = train_from_config(cfg)
    model = init_model(cfg, checkpoint, device)
    feats, gt_labels = extract_features(model, loader)
    if num_clusters > feats.shape[0]:
        raise ValueError(f'num_clusters={num_clusters} is larger than the '
                         f'{feats.shape[0]} readable images')
    kmeans_cfg = kmeans_cfg or (cfg.get('test_evaluator') or {}).get(
        'kmeans_cfg')
    clustering = cluster_features(feats, num_clusters, kmeans_cfg)
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
        extra=dict(folder=osp.abspath(folder), checkpoint=checkpoint))
    return FolderClustering(paths, clustering, feats, gt_labels,
                            list(dataset.skipped), checkpoint, summary)
