"""BoundaryFilterHook: per-epoch k-means for online boundary detection."""
from typing import Union

import torch
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmconr.clustering import (EPOCH_KMEANS, check_num_classes,
                               check_num_clusters, dataset_classes,
                               extract_dataset_features, kmeans,
                               kmeans_settings, kmeans_spread)
from mmconr.clustering.bank import FeatureBank
from mmconr.clustering.shards import shard_bounds, shards_of
from mmconr.evaluation import cluster_metrics, cluster_purity
from mmconr.models.boundary import relaxed_fraction
from mmconr.registry import HOOKS
from mmconr.utils.config import config_value
from ..runner_utils import last_checkpoint, naming_keys, read_config_keys


@HOOKS.register_module()
class BoundaryFilterHook(Hook):
    """Online boundary detection and progressive relaxation (Eq. 9-13).

    Before every group-aware epoch: target features of the whole training
    set (test-time pipeline of ``dataloader``) on every rank, k-means with
    ``num_clusters`` with its ``n_init`` runs spread over the ranks, and the
    centroids + pseudo labels, together with the relaxed kept fraction,
    handed to the model. The state is saved in checkpoints. With
    ``sharded_kmeans`` no rank holds all features (see the argument).

    An argument of :attr:`CONFIG_KEYS` given as a string names a top-level
    key of the config that holds its value (``configs/_base_/conr_stage.py``
    names them all, so that configs set the stage by setting those keys).

    Args:
        dataloader: dataloader config over the training set with the test
            pipeline and a non-shuffled sampler, or the name of a top-level
            config key holding it (e.g. ``'feature_dataloader'``).
        num_clusters: K, or the name of a top-level config key holding it.
        start_epoch: first group-aware epoch t0 (0-based).
        end_epoch: epoch T at which the kept fraction reaches 1; ``None``
            switches progressive relaxation off.
        start_fraction: fr0 in (0, 1].
        one_based_epochs: compute the fraction from 1-based epochs, as the
            official code (0.804 in its first ConNR epoch, not 0.8).
        kmeans_cfg: keyword arguments of :func:`mmconr.clustering.kmeans`;
            the seed is offset by the epoch.
        match_classes: require ``num_clusters`` to equal the number of
            classes the training set declares (if it declares any).
        interval: recompute features and k-means every ``interval``
            group-aware epochs (1, the paper's setting: before every one);
            in between, the last centroids and pseudo labels are reused and
            only the kept fraction follows the schedule. Cuts the per-epoch
            cost of the feature pass and k-means by ``interval`` (see
            docs/benchmark.md).
        amp: fp16 autocast for the feature pass on CUDA (ignored on CPU).
        channels_last: channels-last images for the feature pass on CUDA
            (ignored on CPU).
        sharded_kmeans: each rank embeds only its contiguous block of the
            dataset (``ContiguousShardSampler``) and k-means runs over the
            blocks (:func:`mmconr.clustering.kmeans` with ``sharded=True``):
            no (N, D) feature matrix on any rank and no all-reduce of one,
            memory per rank O(N/W x D + K x D); O(N) scalars are gathered
            (the pseudo and ground-truth labels, NaN flags). The result
            equals the default's up to float rounding (for large N and K,
            e.g. ImageNet-1k).
        features: what the k-means clusters. ``'test_pass'`` (the paper):
            the target features of every training image under the test
            pipeline, an extra forward over the dataset before every
            k-means. ``'train_views'``: the target projections that the
            group-aware steps compute anyway (both views' for BYOL and
            SimSiam, the key view's for MoCo), averaged per sample over the
            epochs since the last k-means (one epoch with ``interval=1``)
            (:class:`mmconr.clustering.bank.FeatureBank`, 2 x N x D fp32 on
            every rank's device). The first k-means, and the first after a
            resume (the bank is not checkpointed), makes the test pass, so
            a resumed run is not step-for-step the uninterrupted one.
            docs/benchmark.md and docs/demo.md measure what it saves and
            what it costs.
    """
    priority = 'NORMAL'

    CONFIG_KEYS = ('dataloader', 'num_clusters', 'start_epoch', 'end_epoch',
                   'start_fraction', 'one_based_epochs', 'kmeans_cfg', 'amp')
    # ``features`` is one of these, or the name of a config key holding one
    FEATURES = ('test_pass', 'train_views')

    def __init__(self,
                 dataloader: Union[str, dict],
                 num_clusters: Union[str, int],
                 start_epoch: Union[int, str],
                 end_epoch: Union[int, str, None] = None,
                 start_fraction: Union[float, str] = 0.8,
                 one_based_epochs: Union[bool, str] = False,
                 kmeans_cfg: Union[dict, str, None] = None,
                 match_classes: bool = True,
                 interval: int = 1,
                 amp: Union[bool, str] = True,
                 channels_last: bool = True,
                 sharded_kmeans: bool = False,
                 features: str = 'test_pass') -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(
                f'interval must be a positive integer, got {interval!r}')
        self.dataloader = dataloader
        self.num_clusters = num_clusters
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.start_fraction = start_fraction
        self.one_based_epochs = one_based_epochs
        self.kmeans_cfg = kmeans_cfg
        self.match_classes = match_classes
        self.interval = interval
        self.amp = amp
        self.channels_last = channels_last
        self.sharded_kmeans = bool(sharded_kmeans)
        self.features = features
        self._bank = None  # FeatureBank with features='train_views'
        self._gt_labels = None
        self._dataloader = None
        self.state = None  # dict(epoch, centroids, pseudo_labels, fraction)
        self._configure(allow_keys=True)

    def _configure(self, allow_keys: bool) -> None:
        """Check (and normalise) the arguments given as values; with
        ``allow_keys``, names of config keys wait for :meth:`before_train`.
        """

        def given(*values) -> bool:
            return not (allow_keys and any(isinstance(v, str)
                                           for v in values))

        if given(self.num_clusters):
            check_num_clusters(self.num_clusters)
        if given(self.start_epoch, self.end_epoch, self.start_fraction):
            relaxed_fraction(self.start_epoch, self.start_epoch,
                             self.end_epoch, self.start_fraction)
        if given(self.one_based_epochs):
            self.one_based_epochs = bool(self.one_based_epochs)
        if given(self.amp):
            self.amp = bool(self.amp)
        if given(self.kmeans_cfg):
            self.kmeans_cfg = kmeans_settings(EPOCH_KMEANS, self.kmeans_cfg)
        if not allow_keys and self.features not in self.FEATURES:
            raise ValueError(f'features must be one of {self.FEATURES}, got '
                             f'{self.features!r}')
        if self.features == 'train_views' and self.sharded_kmeans:
            raise ValueError("features='train_views' keeps every sample's "
                             'features on every rank; it does not combine '
                             'with sharded_kmeans=True')

    def before_train(self, runner) -> None:
        named = read_config_keys(runner, self)
        if self.features not in self.FEATURES:
            named['features'] = self.features
            self.features = config_value(runner.cfg, type(self).__name__,
                                         'features', self.features)
        try:
            self._configure(allow_keys=False)
        except ValueError as exc:
            raise naming_keys(exc, self, named) from exc
        model = get_ori_model(runner.model)
        if not hasattr(model, 'set_boundary_state'):
            raise TypeError('BoundaryFilterHook needs a ConNR-style model '
                            'with set_boundary_state(); got '
                            f'{type(model).__name__}')
        num_samples = len(self._get_dataloader(runner).dataset)
        num_train = len(runner.train_dataloader.dataset)
        if num_samples != num_train:
            raise ValueError(
                f'BoundaryFilterHook: its dataloader covers {num_samples} '
                f'samples but the training set has {num_train}; it must '
                'iterate over the training set (with the test pipeline) so '
                'that pseudo labels exist for every sample_idx')
        if self.sharded_kmeans and (num_samples < runner.world_size or
                                    not isinstance(self.dataloader, dict)):
            raise ValueError(
                'BoundaryFilterHook(sharded_kmeans=True) needs its dataloader '
                'as a config dict (its sampler becomes '
                'ContiguousShardSampler) and at least one sample per rank; '
                f'got {type(self.dataloader).__name__} over {num_samples} '
                f'samples on {runner.world_size} ranks')
        if self.num_clusters > num_samples:
            raise ValueError(
                f'num_clusters={self.num_clusters} is larger than the '
                f'{num_samples} samples of the training set')
        if self.match_classes:
            dataset = runner.train_dataloader.dataset
            check_num_classes('BoundaryFilterHook', self.num_clusters,
                              dataset_classes(dataset),
                              type(dataset).__name__)

    def _get_dataloader(self, runner):
        if self._dataloader is None:
            loader = self.dataloader
            if self.sharded_kmeans and isinstance(loader, dict):
                loader = dict(loader,
                              sampler=dict(type='ContiguousShardSampler'))
            self._dataloader = runner.build_dataloader(loader,
                                                       seed=runner.seed)
        return self._dataloader

    def before_train_epoch(self, runner) -> None:
        epoch = runner.epoch
        if epoch < self.start_epoch:
            return
        model = get_ori_model(runner.model)
        fraction = relaxed_fraction(epoch, self.start_epoch, self.end_epoch,
                                    self.start_fraction,
                                    self.one_based_epochs)
        if not self._due(epoch):
            self.state['fraction'] = fraction
            model.set_boundary_state(self.state['centroids'],
                                     self.state['pseudo_labels'], fraction)
            runner.logger.info(
                f'BoundaryFilterHook: epoch {epoch}: kept fraction '
                f'{fraction:.3f}, k-means of epoch {self.state["epoch"]} '
                f'reused (interval {self.interval})')
            return
        feats, gt_labels, source = self._features(runner, model)
        shards = shards_of(feats, self.sharded_kmeans)
        # every rank raises, or none (a rank alone would leave the rest
        # waiting)
        bad = shards.cat((~torch.isfinite(feats).all(dim=1)).long())
        bad = bad.nonzero().flatten()
        if bad.numel():
            raise FloatingPointError(
                f'BoundaryFilterHook: epoch {epoch}: the target features of '
                f'{bad.numel()} of {shards.total} samples are NaN or inf '
                f'(first sample_idx: {bad[:5].tolist()}); the target network '
                'has diverged. Training stopped before this epoch; the last '
                f'good checkpoint is {last_checkpoint(runner)}.')
        # a fresh k-means seed every epoch
        cfg = dict(self.kmeans_cfg)
        cfg['seed'] = cfg.get('seed', 0) + epoch
        if self.sharded_kmeans:
            centroids, labels = kmeans(feats, self.num_clusters,
                                       sharded=True, **cfg)
            # every rank trains on any sample: all pseudo labels everywhere
            labels = shards.cat(labels.to(feats.device))
            gt_labels = shards.cat(gt_labels)
            centroids = centroids.to(feats.device)
        else:
            centroids, labels = kmeans_spread(feats, self.num_clusters,
                                              **cfg)
        self.state = dict(
            epoch=epoch,
            centroids=centroids.cpu(),
            pseudo_labels=labels.cpu(),
            fraction=fraction)
        model.set_boundary_state(centroids, labels, fraction)
        self._log(runner, epoch, fraction, labels.cpu(), gt_labels.cpu(),
                  source)

    def _features(self, runner, model):
        """(feats, gt_labels, what they are) for this epoch's k-means."""
        if self.features == 'train_views' and self._bank is not None:
            seen = self._bank.collect()
            return self._bank.feats, self._gt_labels, (
                f'features of the training views ({seen} of '
                f'{self._bank.num_samples} samples seen)')
        loader = self._get_dataloader(runner)
        block = None
        if self.sharded_kmeans:
            block = shard_bounds(len(loader.dataset), runner.world_size,
                                 runner.rank)
        feats, gt_labels = extract_dataset_features(
            model, loader, amp=self.amp, channels_last=self.channels_last,
            block=block)
        if self.features == 'train_views':
            # the first k-means (or the first after a resume); from now on
            # the group-aware steps refresh the bank
            self._bank, self._gt_labels = FeatureBank(feats), gt_labels
            model.set_feature_bank(self._bank)
        return feats, gt_labels, 'features of the whole-dataset pass'

    def _due(self, epoch: int) -> bool:
        """Whether features and k-means are recomputed before ``epoch``."""
        if self.state is None or self.interval == 1:
            return True
        return (epoch - self.start_epoch) % self.interval == 0 or \
            epoch - self.state['epoch'] >= self.interval

    def _log(self, runner, epoch, fraction, labels, gt_labels,
             source: str = '') -> None:
        msg = (f'BoundaryFilterHook: epoch {epoch}: kept fraction '
               f'{fraction:.3f}')
        scalars = dict(kept_fraction=fraction)
        labelled = gt_labels >= 0
        if labelled.any():
            # Diagnostics only: ground truth never reaches the training.
            scores = cluster_metrics(gt_labels, labels)
            purity = cluster_purity(gt_labels[labelled], labels[labelled])
            scalars.update(
                pseudo_purity=100 * purity,
                pseudo_acc=100 * scores['acc'],
                pseudo_nmi=100 * scores['nmi'])
            msg += (f', pseudo labels: purity {100 * purity:.2f} '
                    f'ACC {100 * scores["acc"]:.2f} '
                    f'NMI {100 * scores["nmi"]:.2f}')
        if self.features == 'train_views':
            msg += f'; k-means of the {source}'
        runner.logger.info(msg)
        runner.visualizer.add_scalars(
            {f'boundary/{k}': v
             for k, v in scalars.items()}, step=epoch)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.state is not None:
            checkpoint['boundary_filter'] = dict(self.state)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('boundary_filter')
        if state is None:
            return
        self.state = dict(state)
        get_ori_model(runner.model).set_boundary_state(
            state['centroids'], state['pseudo_labels'], state['fraction'])
