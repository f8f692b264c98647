"""Hooks that stop a run with a clear message instead of losing work:
a non-finite loss, a checkpoint that does not fit the model."""
import math
import re

import torch
from mmengine.hooks import Hook
from mmpretrain.utils import get_ori_model

from mmconr.registry import HOOKS
from ..runner_utils import last_checkpoint


def _scalar(value) -> float:
    return float(value.detach()) if torch.is_tensor(value) else float(value)


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first non-finite loss, saying where and why.

    Runs after every training iteration before any checkpoint hook, raises
    ``FloatingPointError`` naming the epoch, the iteration, the non-finite
    loss terms and whether parameters or gradients were already non-finite;
    no checkpoint of the diverged state is written, the last good one stays.
    """
    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not outputs:
            return
        bad = {
            name: _scalar(value)
            for name, value in outputs.items()
            if name.startswith('loss') and not math.isfinite(_scalar(value))
        }
        if not bad:
            return
        model = get_ori_model(runner.model)
        bad_params = [
            name for name, p in model.named_parameters()
            if not torch.isfinite(p).all()
        ]
        cause = ', '.join(f'{k}={v}' for k, v in bad.items())
        if bad_params:
            cause += (f'; {len(bad_params)} parameter tensors are non-finite '
                      f'(first: {bad_params[0]})')
        raise FloatingPointError(
            f'non-finite loss at epoch {runner.epoch} iteration '
            f'{batch_idx + 1}/{len(runner.train_dataloader)} (global '
            f'iteration {runner.iter + 1}): {cause}. Training stopped; the '
            f'last good checkpoint is {last_checkpoint(runner)}. Switch off '
            'AMP and --resume from it, or start a run with a lower learning '
            'rate from its weights (load_from=...; --resume would restore '
            "the checkpoint's learning rate), or clip gradients "
            '(optim_wrapper.clip_grad).')


def _strip(key: str, revise_keys) -> str:
    for pattern, repl in revise_keys:
        key = re.sub(pattern, repl, key)
    return key


def checkpoint_mismatch(model_state: dict, ckpt_state: dict,
                        revise_keys=((r'^module\.', ''), )) -> dict:
    """Keys missing from / unexpected in the checkpoint and keys whose
    shapes differ (a checkpoint of another architecture)."""
    ckpt = {_strip(k, revise_keys): v for k, v in ckpt_state.items()}
    missing = sorted(set(model_state) - set(ckpt))
    unexpected = sorted(set(ckpt) - set(model_state))
    shapes = sorted(
        f'{k}: checkpoint {tuple(ckpt[k].shape)} vs model '
        f'{tuple(model_state[k].shape)}' for k in set(ckpt) & set(model_state)
        if hasattr(ckpt[k], 'shape')
        and tuple(ckpt[k].shape) != tuple(model_state[k].shape))
    return dict(missing=missing, unexpected=unexpected, shape=shapes)


@HOOKS.register_module()
class CheckpointCheckHook(Hook):
    """Refuse a ``load_from`` / ``--resume`` checkpoint that does not fit the
    model, listing the mismatched keys, before anything is loaded.

    MMEngine only logs a warning for missing / unexpected keys and shape
    mismatches, and training then starts from partly random weights.

    Args:
        strict: ``False`` turns the error into a warning (MMEngine's
            behaviour), e.g. to load a backbone-only checkpoint on purpose.
        max_keys: how many keys of each kind the message lists.
    """
    priority = 'VERY_HIGH'

    def __init__(self, strict: bool = True, max_keys: int = 10) -> None:
        self.strict = strict
        self.max_keys = max_keys

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        model = get_ori_model(runner.model)
        mismatch = checkpoint_mismatch(model.state_dict(), state)
        if not any(mismatch.values()):
            return
        lines = []
        for kind, keys in mismatch.items():
            if keys:
                shown = ', '.join(keys[:self.max_keys])
                more = (f' (+{len(keys) - self.max_keys} more)'
                        if len(keys) > self.max_keys else '')
                lines.append(f'{len(keys)} {kind}: {shown}{more}')
        msg = ('the checkpoint does not fit the model '
               f'{type(model).__name__} (another architecture?): '
               + '; '.join(lines))
        if self.strict:
            raise RuntimeError(
                msg + '. Set default_hooks.checkpoint_check.strict=False to '
                'load it anyway.')
        runner.logger.warning(msg)
