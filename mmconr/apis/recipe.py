"""What a config will do on N GPUs: batch, BN groups, lr and EMA curves.

The curves come from the real machinery, not from formulas written here:
the optimizer is built from the config by mmengine's constructor (so each
param group gets its ``paramwise_cfg`` lr), the config's param schedulers
are built as the Runner builds them and stepped once per iteration, the
stage switch is :class:`ConAffNeckHook`'s own lr change, and the EMA
momentum is the model's target EMA applied to a scalar.
"""
import logging
import math
from types import SimpleNamespace
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from torch import nn

from mmconr.engine.hooks import ConAffNeckHook
from mmconr.engine.schedulers import (build_param_schedulers,
                                      step_after_iteration)
from mmconr.registry import MODELS
from mmconr.utils.config import find_hook, hook_arg
from mmconr.utils.launch import resolve_batch_size

REPORT_EPOCHS = (0, 25, 50, 400, 799, 800, 850, 999)


def _find(node, key: str, found: list) -> list:
    if isinstance(node, dict):
        if key in node:
            found.append(node[key])
        for value in node.values():
            _find(value, key, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _find(value, key, found)
    return found


def bn_groups(model_cfg) -> str:
    """The BN normalisation groups the model's norm layers use."""
    types = {n.get('type') for n in _find(model_cfg, 'norm_cfg', [])}
    sizes = {
        n.get('group_size', 128)
        for n in _find(model_cfg, 'norm_cfg', []) if n.get('type') == 'GroupBN'
    }
    if types == {'GroupBN'} and len(sizes) == 1:
        return sizes.pop()
    if types <= {'SyncBN', 'PortableSyncBN'}:
        return 'global batch (SyncBN)'
    return 'per process (' + ', '.join(sorted(map(str, types))) + ')'


def iters_per_epoch(num_samples: int, per_gpu: int, gpus: int) -> int:
    """mmengine's DefaultSampler pads to ceil(N / W) per rank; drop_last."""
    return math.ceil(num_samples / gpus) // per_gpu


def _group_name(name: str, custom_keys) -> str:
    # mmengine's rule: the longest custom key contained in the name
    for key in sorted(custom_keys, key=len, reverse=True):
        if key in name:
            return key
    return ''


def lr_curves(cfg, model: nn.Module, epoch_length: int,
              epochs=REPORT_EPOCHS) -> Dict[str, List[List[float]]]:
    """lr of every kind of param group at the first iteration of each of
    ``epochs``: param-group name -> [[epoch, lr], ...]."""
    names = {id(p): n for n, p in model.named_parameters() if p.requires_grad}
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    custom = (cfg.optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys', {})
    # one representative param group per name (identical settings)
    kinds = {}
    for group in wrapper.optimizer.param_groups:
        trainable = [p for p in group['params'] if id(p) in names]
        if trainable:
            key = _group_name(names[id(trainable[0])], custom)
            kinds.setdefault(key, group)
    base = [k for k in kinds if not k]
    if base:
        tops = sorted({
            names[id(p)].split('.')[0]
            for g in wrapper.optimizer.param_groups for p in g['params']
            if id(p) in names
            and not _group_name(names[id(p)], custom)
        })
        kinds = {'+'.join(tops): kinds.pop(''), **kinds}
    # the same groups on a 1-parameter stand-in, so that 1000 epochs of
    # scheduler steps are cheap
    defaults = dict(wrapper.optimizer.defaults)
    groups = [
        dict({k: v for k, v in g.items() if k != 'params'},
             params=[nn.Parameter(torch.zeros(1))]) for g in kinds.values()
    ]
    optimizer = type(wrapper.optimizer)(groups, **defaults)
    stand_in = type(wrapper)(optimizer=optimizer)
    schedulers = build_param_schedulers(cfg, stand_in, epoch_length)
    neck_hook = find_hook(cfg, 'ConAffNeckHook')
    switch = None
    if neck_hook is not None:
        args = {
            k: hook_arg(cfg, neck_hook, k)
            for k in ('start_epoch', 'lr_mult', 'keep_group_lr_mult')
            if k in neck_hook
        }
        switch = ConAffNeckHook(**args)
    fake_runner = SimpleNamespace(
        optim_wrapper=stand_in, epoch=0,
        logger=SimpleNamespace(info=lambda *a: None))
    wanted = {e * epoch_length: e for e in epochs}
    curves = {name: [] for name in kinds}
    last = max(wanted)
    for step in range(last + 1):
        if step % epoch_length == 0 and switch is not None:
            fake_runner.epoch = step // epoch_length
            if fake_runner.epoch == switch.start_epoch:
                switch.scale_lr(fake_runner)
        if step in wanted:
            for name, group in zip(kinds, optimizer.param_groups):
                curves[name].append([wanted[step], group['lr']])
        step_after_iteration(schedulers, step, epoch_length)
    return curves


def ema_curve(model: nn.Module, epoch_length: int, max_epochs: int,
              epochs=REPORT_EPOCHS) -> Optional[List[List[float]]]:
    """The target's weight m (``target = m target + (1 - m) online``) at
    the first iteration of each of ``epochs``, from the model's own EMA."""
    ema = getattr(model, 'target_net', None)
    if ema is None or not hasattr(ema, 'avg_func'):
        return None
    hub = MessageHub.get_current_instance()
    old = hub.get_info('max_iters')
    hub.update_info('max_iters', max_epochs * epoch_length)
    try:
        out = []
        for epoch in epochs:
            target = torch.ones(1, dtype=torch.float64)
            online = torch.zeros(1, dtype=torch.float64)
            ema.avg_func(target, online, epoch * epoch_length)
            out.append([epoch, float(target)])
    finally:
        hub.update_info('max_iters', old)
    return out


def recipe(cfg: Config, gpus: int,
           num_samples: Optional[int] = None) -> dict:
    """The recipe of ``cfg`` launched on ``gpus`` processes."""
    if not isinstance(gpus, int) or gpus < 1:
        raise ValueError(f'gpus must be a positive integer, got {gpus!r}')
    # quiet: mmengine logs every parameter's optimiser options
    MMLogger.get_instance('mmconr_recipe', log_level='ERROR').setLevel(
        logging.ERROR)
    filename = cfg.filename
    cfg = Config(cfg.to_dict())  # resolve_batch_size writes into it
    resolve_batch_size(cfg, gpus)
    per_gpu = cfg.train_dataloader.batch_size
    if num_samples is None:
        num_samples = cfg.get('num_train_samples')
    if num_samples is None:
        raise ValueError('the config has no num_train_samples; pass '
                         '--num-samples')
    epoch_length = iters_per_epoch(num_samples, per_gpu, gpus)
    if epoch_length < 1:
        raise ValueError(f'{num_samples} samples give no full batch of '
                         f'{per_gpu} on {gpus} GPU(s)')
    max_epochs = cfg.train_cfg.max_epochs
    epochs = tuple(e for e in REPORT_EPOCHS if e < max_epochs)
    net = MODELS.build(cfg.model)
    model = cfg.model
    boundary = find_hook(cfg, 'BoundaryFilterHook')
    neck = find_hook(cfg, 'ConAffNeckHook')
    start = hook_arg(cfg, neck, 'start_epoch') if neck else max_epochs
    out = dict(
        config=filename,
        gpus=gpus,
        global_batch=per_gpu * gpus,
        per_gpu_batch=per_gpu,
        bn_group_size=bn_groups(model),
        num_samples=num_samples,
        iters_per_epoch=epoch_length,
        lr=lr_curves(cfg, net, epoch_length, epochs),
        ema_momentum=ema_curve(net, epoch_length, max_epochs, epochs),
        stages=dict(
            instance=dict(
                epochs=[0, start],
                loss=dict(model.head.get('loss', {}))),
        ),
        evaluation_kmeans=dict(
            (cfg.get('val_evaluator') or {}).get('kmeans_cfg') or {}),
    )
    if neck is not None:
        out['stages']['group'] = dict(
            epochs=[start, max_epochs],
            loss=dict(model.head.get('loss', {})),
            group_loss_weight=model.get('group_loss_weight'),
            group_loss_average=model.get('group_loss_average', 'kept'),
            keep_rule=model.get('keep_rule', 'ceil'),
            lr_mult=hook_arg(cfg, neck, 'lr_mult', 1.0),
            keep_group_lr_mult=hook_arg(cfg, neck, 'keep_group_lr_mult',
                                        True))
    if boundary is not None:
        out['boundary'] = {
            k: hook_arg(cfg, boundary, k)
            for k in ('start_epoch', 'end_epoch', 'start_fraction',
                      'one_based_epochs', 'kmeans_cfg')
        }
    return out
