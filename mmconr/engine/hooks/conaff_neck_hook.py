"""ConAffNeckHook: switches ConNR from instance- to group-aware training."""
from typing import List, Optional

from mmengine.dataset import Compose
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmconr.registry import HOOKS


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


def set_pipeline(dataset, pipeline: List[dict]) -> None:
    """Replace the pipeline of ``dataset`` (through dataset wrappers)."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        for sub in dataset.datasets:
            set_pipeline(sub, pipeline)
    elif hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        set_pipeline(dataset.dataset, pipeline)
    elif hasattr(dataset, 'pipeline'):
        dataset.pipeline = Compose(pipeline)
    else:
        raise TypeError(f'cannot set the pipeline of {type(dataset).__name__}')


def restart_workers(dataloader) -> None:
    """Make a dataloader with persistent workers pick up a changed dataset:
    its workers hold a copy of the dataset, so they are shut down and
    re-created on the next iteration."""
    iterator = getattr(dataloader, '_iterator', None)
    if iterator is not None:
        shutdown = getattr(iterator, '_shutdown_workers', None)
        if shutdown is not None:
            shutdown()
        dataloader._iterator = None


@HOOKS.register_module()
class ConAffNeckHook(Hook):
    """Turn on ConNR's group-aware stage from ``start_epoch`` (0-based).

    Before every training epoch the model's stage is set from the epoch
    alone, so resuming at any epoch restores the right stage. From
    ``start_epoch`` on the optional ``stage2_pipeline`` replaces the train
    pipeline (e.g. the official RandomResizedCrop scale (0.45, 1)), also with
    persistent dataloader workers.

    Args:
        start_epoch: first group-aware epoch t0 (the paper's 800 means
            epochs 800..999 of 1000, counting from 0).
        stage2_pipeline: train pipeline used from ``start_epoch`` on.
    """
    priority = 'NORMAL'

    def __init__(self,
                 start_epoch: int,
                 stage2_pipeline: Optional[List[dict]] = None) -> None:
        if not isinstance(start_epoch, int) or start_epoch < 0:
            raise ValueError(
                f'start_epoch must be a non-negative integer, got '
                f'{start_epoch!r}')
        self.start_epoch = start_epoch
        self.stage2_pipeline = stage2_pipeline
        self._pipeline_installed = False

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
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

    def before_train_epoch(self, runner) -> None:
        in_group_stage = runner.epoch >= self.start_epoch
        unwrap(runner.model).set_group_stage(in_group_stage)
        if (in_group_stage and self.stage2_pipeline is not None
                and not self._pipeline_installed):
            loader = runner.train_dataloader
            set_pipeline(loader.dataset, self.stage2_pipeline)
            restart_workers(loader)
            self._pipeline_installed = True
            runner.logger.info(
                f'ConAffNeckHook: epoch {runner.epoch}: stage-2 train '
                'pipeline installed')
        if runner.epoch == self.start_epoch:
            runner.logger.info(
                f'ConAffNeckHook: group-aware stage starts at epoch '
                f'{runner.epoch}')
