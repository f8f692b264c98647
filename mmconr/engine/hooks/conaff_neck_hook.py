"""ConAffNeckHook: switches ConNR from instance- to group-aware training."""
from numbers import Real
from typing import List, Union

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmconr.models.neighborhoods.sizing import neighborhood_size_problem
from mmconr.registry import HOOKS
from ..runner_utils import (auto_scale_ratio, naming_keys, read_config_keys,
                            restart_workers, set_pipeline)


@HOOKS.register_module()
class ConAffNeckHook(Hook):
    """Turn on ConNR's group-aware stage from ``start_epoch`` (0-based).

    Before every training epoch the model's stage is set from the epoch
    alone, so resuming at any epoch restores the right stage. From
    ``start_epoch`` on the optional ``stage2_pipeline`` replaces the train
    pipeline (e.g. the official RandomResizedCrop scale (0.45, 1)), also with
    persistent dataloader workers.

    Before training it warns when the neighbourhood size ``k`` exceeds
    what the global batch holds of one of the config's ``num_clusters``
    clusters (:func:`mmconr.models.neighborhoods.sizing.
    neighborhood_size_problem`).

    ``lr_mult`` scales the learning rate of every parameter group once, at
    the start of epoch ``start_epoch`` (the official ConNR stage uses 0.1).
    mmengine's cosine schedule is chainable (each step multiplies the current
    value), so the factor carries through the rest of the schedule. Doing it
    here rather than with an extra scheduler keeps the scheduler list of a
    ConNR config identical to its BYOL baseline, so that an epoch-800 BYOL
    checkpoint resumes into the ConNR stage with ``--resume``. Whether the
    factor was applied is saved in checkpoints and never applied twice.

    An argument of :attr:`CONFIG_KEYS` given as a string names a top-level
    key of the config that holds its value (``configs/_base_/conr_stage.py``).

    Args:
        start_epoch: first group-aware epoch t0 (the paper's 800 means
            epochs 800..999 of 1000, counting from 0).
        stage2_pipeline: train pipeline used from ``start_epoch`` on, or the
            name of a top-level config key holding it.
        lr_mult: learning-rate factor from ``start_epoch`` on.
        keep_group_lr_mult: whether a param group's own ``lr_mult`` (from
            ``paramwise_cfg``, e.g. the predictor's x 10 of the official
            BYOL warm-up) carries into the stage. ``False``: every group
            continues at ``lr_mult`` x the base schedule, as the official
            ConNR stage (its predictor goes from x 10 to x 0.1).
    """
    priority = 'NORMAL'

    CONFIG_KEYS = ('start_epoch', 'stage2_pipeline', 'lr_mult',
                   'keep_group_lr_mult')

    def __init__(self,
                 start_epoch: Union[int, str],
                 stage2_pipeline: Union[str, List[dict], None] = None,
                 lr_mult: Union[float, str] = 1.0,
                 keep_group_lr_mult: Union[bool, str] = True) -> None:
        self.start_epoch = start_epoch
        self.stage2_pipeline = stage2_pipeline
        self.lr_mult = lr_mult
        self.keep_group_lr_mult = keep_group_lr_mult
        self._lr_ratio = 1.0  # mmengine's auto_scale_lr factor
        self._pipeline_installed = False
        self._lr_scaled = False
        self._check(allow_keys=True)

    def _check(self, allow_keys: bool) -> None:
        """The arguments' values; names of config keys are checked once
        :meth:`before_train` has read them."""
        start, mult = self.start_epoch, self.lr_mult
        if not (allow_keys and isinstance(start, str)) and (
                isinstance(start, bool) or not isinstance(start, int)
                or start < 0):
            raise ValueError(
                f'start_epoch must be a non-negative integer, got {start!r}')
        if not (allow_keys and isinstance(mult, str)) and (
                isinstance(mult, bool) or not isinstance(mult, Real)
                or not mult > 0):
            raise ValueError(f'lr_mult must be a positive number, got '
                             f'{mult!r}')

    def before_train(self, runner) -> None:
        named = read_config_keys(runner, self)
        try:
            self._check(allow_keys=False)
        except ValueError as exc:
            raise naming_keys(exc, self, named) from exc
        self.lr_mult = float(self.lr_mult)
        self.keep_group_lr_mult = bool(self.keep_group_lr_mult)
        self._lr_ratio = auto_scale_ratio(runner)
        model = get_ori_model(runner.model)
        if not hasattr(model, 'set_group_stage'):
            raise TypeError(f'ConAffNeckHook needs a ConNR-style model with '
                            f'set_group_stage(); got {type(model).__name__}')
        if self.start_epoch >= runner.max_epochs:
            runner.logger.warning(
                f'ConAffNeckHook: start_epoch={self.start_epoch} >= '
                f'max_epochs={runner.max_epochs}; the group-aware stage will '
                'never run')
        neighborhood = getattr(model, 'neighborhood', None)
        min_batch = getattr(neighborhood, 'min_batch_size', 1)
        loader = runner.train_dataloader
        global_batch = loader.batch_size * get_world_size()
        if global_batch < min_batch:
            raise ValueError(
                f'the global batch size {global_batch} (batch_size '
                f'{loader.batch_size} x {get_world_size()} processes) is '
                f'smaller than the neighbourhood needs ({neighborhood}); '
                'increase train_dataloader.batch_size or reduce k / k1')
        num_clusters = runner.cfg.get('num_clusters')
        k = getattr(neighborhood, 'k', None)
        if isinstance(num_clusters, int) and isinstance(k, int):
            problem = neighborhood_size_problem(k, global_batch,
                                                num_clusters)
            if problem:
                runner.logger.warning(f'ConAffNeckHook: {problem}')

    def before_train_epoch(self, runner) -> None:
        in_group_stage = runner.epoch >= self.start_epoch
        get_ori_model(runner.model).set_group_stage(in_group_stage)
        if (in_group_stage and self.stage2_pipeline is not None
                and not self._pipeline_installed):
            loader = runner.train_dataloader
            set_pipeline(loader.dataset, self.stage2_pipeline)
            restart_workers(loader)
            self._pipeline_installed = True
            runner.logger.info(
                f'ConAffNeckHook: epoch {runner.epoch}: stage-2 train '
                'pipeline installed')
        rescales = self.lr_mult != 1.0 or not self.keep_group_lr_mult
        if in_group_stage and rescales and not self._lr_scaled:
            if runner.epoch == self.start_epoch:
                self.scale_lr(runner)
            else:
                runner.logger.warning(
                    f'ConAffNeckHook: resumed at epoch {runner.epoch} > '
                    f'start_epoch={self.start_epoch} from a checkpoint that '
                    'does not record the lr switch; assuming the optimizer '
                    'state already carries lr_mult')
                self._lr_scaled = True
        if runner.epoch == self.start_epoch:
            runner.logger.info(
                f'ConAffNeckHook: group-aware stage starts at epoch '
                f'{runner.epoch}')

    def scale_lr(self, runner) -> None:
        """Scale the lr of every param group of the runner's optimizer(s)
        once, as at ``start_epoch``."""
        optim_wrappers = runner.optim_wrapper
        wrappers = optim_wrappers.values() if hasattr(
            optim_wrappers, 'values') else [optim_wrappers]
        for wrapper in wrappers:
            # the base lr of the schedule, as auto_scale_lr left it
            base_lr = wrapper.optimizer.defaults['lr'] * self._lr_ratio
            for group in wrapper.optimizer.param_groups:
                factor = self.lr_mult
                if not self.keep_group_lr_mult:
                    # initial_lr (set by a scheduler; without one, the lr
                    # as built) = base lr x the group's lr_mult
                    initial = group.get('initial_lr', group['lr'])
                    if initial > 0:
                        factor *= base_lr / initial
                group['lr'] *= factor
        self._lr_scaled = True
        runner.logger.info(
            f'ConAffNeckHook: epoch {runner.epoch}: lr x {self.lr_mult}' +
            ('' if self.keep_group_lr_mult else
             ' for every group (param-group lr_mult dropped)'))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['conaff_neck'] = dict(lr_scaled=self._lr_scaled)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('conaff_neck')
        if state is not None:
            self._lr_scaled = bool(state['lr_scaled'])
