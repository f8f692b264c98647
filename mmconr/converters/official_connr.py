"""Checkpoints of the official ConNR code as mmconr checkpoints.

The official code saves, at the end of an epoch, one file per registered
object, named by the variable (``utils/loggerx.py``): ``byol-800`` (the
BYOL wrapper's ``state_dict()``), ``optimizer-800`` (the SGD state: one
param group per parameter, each with its ``name``, and the momentum
buffers) and ``scaler-800``. ``byol-800`` holds

* ``encoder_q`` / ``encoder_k``: the online / target ResNet as a
  ``Sequential`` (0 conv 3x3, 1 BN, 2 ReLU, 3-6 the four residual stages in
  torchvision's naming: conv1, bn1, conv2, bn2, downsample.0/.1);
* ``projector_q`` / ``projector_k`` and ``predictor``: Linear(bias) - BN1d -
  ReLU - Linear(bias);
* ``encoder``: ``Sequential(encoder_k, projector_k)``, the same tensors
  again.

mmconr's ConNR (mmpretrain BYOL) holds them as ``backbone``, ``neck``,
``head.predictor`` and ``target_net.module.{0,1}`` (an EMA model with a
``steps`` counter); see ``configs/_base_/models/byol_resnet18_cifar.py``.
"""
import re
import warnings
from collections import OrderedDict
from typing import Dict, Optional

import torch
from mmengine.logging import MessageHub
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper

from mmconr.engine.schedulers import (build_param_schedulers,
                                      step_after_iteration)
from mmconr.registry import MODELS
from mmconr.utils.config import load_config

_ENCODER_PARTS = {'0': 'conv1', '1': 'bn1', '3': 'layer1', '4': 'layer2',
                  '5': 'layer3', '6': 'layer4'}
_MLP_PARTS = {'0': 'fc0', '1': 'bn0', '3': 'fc1'}
_PREFIXES = {
    'encoder_q': ('backbone.', _ENCODER_PARTS),
    'encoder_k': ('target_net.module.0.', _ENCODER_PARTS),
    'projector_q': ('neck.', _MLP_PARTS),
    'projector_k': ('target_net.module.1.', _MLP_PARTS),
    'predictor': ('head.predictor.', _MLP_PARTS),
}
# encoder.0 / encoder.1 alias encoder_k / projector_k in the official model
_ALIASES = {'encoder.0.': 'encoder_k.', 'encoder.1.': 'projector_k.'}


def unwrap_state_dict(checkpoint) -> Dict[str, torch.Tensor]:
    """The tensors of an official checkpoint file: a bare state_dict, or one
    under ``state_dict`` / ``model``; a DataParallel ``module.`` prefix on
    every key is removed."""
    state = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError('not a state_dict of tensors (nor one under '
                         "'state_dict' / 'model')")
    if all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    return state


def rename_official_key(key: str) -> Optional[str]:
    """mmconr's name of an official parameter / buffer, ``None`` for a key
    outside the official layout (``encoder.*`` aliases included)."""
    match = re.fullmatch(r'(\w+?)\.(\d+)(\..+)?', key)
    if match is None or match.group(1) not in _PREFIXES:
        return None
    module, index, rest = match.groups()
    prefix, parts = _PREFIXES[module]
    if index not in parts or not rest:
        return None
    return prefix + parts[index] + rest


def official_momentum(optimizer_state) -> Dict[str, torch.Tensor]:
    """SGD momentum buffers of an official ``optimizer-<epoch>`` file, by
    mmconr parameter name (``basic_template.py`` ``collect_params``: one
    param group per parameter, named as in ``byol.named_parameters()``)."""
    if not (isinstance(optimizer_state, dict)
            and isinstance(optimizer_state.get('param_groups'), list)
            and isinstance(optimizer_state.get('state'), dict)):
        raise ValueError('not an optimizer state_dict (no param_groups / '
                         'state)')
    out, unknown = {}, []
    for group in optimizer_state['param_groups']:
        name = group.get('name')
        if name is None:
            raise ValueError('its param groups carry no parameter name; '
                             'the official optimizer has one per group')
        for index in group['params']:
            buf = optimizer_state['state'].get(index, {}).get(
                'momentum_buffer')
            if buf is None:  # the target's parameters never get a gradient
                continue
            new = rename_official_key(name)
            if new is None:
                unknown.append(name)
            else:
                out[new] = buf.clone()
    if unknown:
        raise ValueError(f'{len(unknown)} parameter names are not of the '
                         f'official layout (e.g. {", ".join(unknown[:5])})')
    return out


def convert_official_byol(state: Dict[str, torch.Tensor],
                          ema_steps: int = 1) -> 'OrderedDict':
    """Rename an official BYOL-wrapper state_dict to ConNR's keys.

    Args:
        state: the official ``state_dict`` (see the module docstring).
        ema_steps: value of ``target_net.steps``, the EMA updates done so
            far. It must be > 0: at step 0 mmengine's EMA copies the online
            network over the target, which would discard the official target.

    Raises:
        ValueError naming every key that is not of the official layout, and
        every ``encoder.*`` alias whose tensor differs from its original.
    """
    if not isinstance(ema_steps, int) or ema_steps < 1:
        raise ValueError(f'ema_steps must be a positive integer, got '
                         f'{ema_steps!r}')
    out, unknown, mismatched = OrderedDict(), [], []
    for key, value in state.items():
        alias = next((a for a in _ALIASES if key.startswith(a)), None)
        if alias is not None:
            original = _ALIASES[alias] + key[len(alias):]
            if original not in state or not torch.equal(
                    state[original], value):
                mismatched.append(key)
            continue
        new = rename_official_key(key)
        if new is None:
            unknown.append(key)
            continue
        out[new] = value.clone()
    if unknown:
        raise ValueError(
            f'{len(unknown)} keys are not of the official ConNR BYOL layout '
            f'(e.g. {", ".join(unknown[:5])})')
    if mismatched:
        raise ValueError(
            f'{len(mismatched)} encoder.* keys differ from the encoder_k / '
            f'projector_k tensors they alias (e.g. {mismatched[0]})')
    out['target_net.steps'] = torch.tensor(ema_steps, dtype=torch.long)
    return out


def check_against_model(state: Dict[str, torch.Tensor], model) -> None:
    """Every key and shape of ``model``'s state_dict, nothing else."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = [
        f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f'{len(missing)} missing (e.g. '
                        f'{", ".join(missing[:5])})')
    if extra:
        problems.append(f'{len(extra)} unexpected (e.g. '
                        f'{", ".join(extra[:5])})')
    if shapes:
        problems.append(f'{len(shapes)} of another shape (e.g. '
                        f'{"; ".join(shapes[:3])})')
    if problems:
        raise ValueError('the converted weights do not fit the model of the '
                         'config: ' + ', '.join(problems))


def training_state_at(cfg, model, epoch: int, iters_per_epoch: int,
                      momentum: Optional[Dict[str, torch.Tensor]] = None
                      ) -> dict:
    """What tools/train.py --resume needs to continue ``cfg`` at the start
    of ``epoch``: ``meta`` (epoch, iter), an empty ``message_hub``, the
    optimizer with the lr of that iteration and the SGD ``momentum``
    buffers by parameter name (:func:`official_momentum`; without them
    momentum restarts from zero), and the parameter schedulers stepped to
    that iteration, as mmengine's ParamSchedulerHook steps them."""
    if epoch < 0 or iters_per_epoch < 1:
        raise ValueError(f'epoch={epoch} and iters_per_epoch='
                         f'{iters_per_epoch} must be >= 0 and >= 1')
    max_epochs = cfg.train_cfg['max_epochs']
    if epoch >= max_epochs:
        raise ValueError(f'epoch={epoch} is not before the config\'s '
                         f'max_epochs={max_epochs}')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    if momentum is not None:
        set_momentum(optim_wrapper.optimizer, model, momentum)
    schedulers = build_param_schedulers(cfg, optim_wrapper, iters_per_epoch)
    with warnings.catch_warnings():  # "scheduler.step() before optimizer"
        warnings.simplefilter('ignore')
        for it in range(epoch * iters_per_epoch):
            step_after_iteration(schedulers, it, iters_per_epoch)
    hub = MessageHub.get_instance('mmconr-official-converter')
    return dict(
        meta=dict(epoch=epoch, iter=epoch * iters_per_epoch),
        message_hub=hub.state_dict(),
        optimizer=optim_wrapper.state_dict(),
        param_schedulers=[s.state_dict() for s in schedulers])


def set_momentum(optimizer, model, momentum: Dict[str, torch.Tensor]):
    """Put SGD momentum buffers (by parameter name) into ``optimizer``;
    every trainable parameter needs one of its shape."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    missing = sorted(set(params) - set(momentum))
    extra = sorted(set(momentum) - set(params))
    shapes = [n for n in params if n in momentum
              and momentum[n].shape != params[n].shape]
    if missing or extra or shapes:
        raise ValueError(
            'the optimizer state does not fit the model: '
            f'{len(missing)} parameters without momentum '
            f'({", ".join(missing[:3])}), {len(extra)} unknown '
            f'({", ".join(extra[:3])}), {len(shapes)} of another shape '
            f'({", ".join(shapes[:3])})')
    for name, param in params.items():
        optimizer.state[param]['momentum_buffer'] = momentum[name].to(
            param.dtype).clone()


def official_to_mmconr(checkpoint,
                       config,
                       epoch: Optional[int] = 800,
                       iters_per_epoch: int = 117,
                       optimizer=None) -> dict:
    """An mmconr checkpoint from an official one (a file's loaded content).

    The weights are checked key by key and shape by shape against the
    model of ``config`` (e.g. ``configs/conr/byol_conr_cifar10.py``), which
    loads them with ``load_from``. With ``epoch`` (the official warm-up
    ends at 800) the checkpoint also resumes that config at that epoch
    (``tools/train.py CONFIG --resume FILE``), the EMA counter set to
    ``epoch * iters_per_epoch`` (117 = 60,000 CIFAR-10 images // the global
    batch 512, on any number of GPUs), and with ``optimizer`` (the loaded
    ``optimizer-<epoch>`` file) SGD continues with the official momentum
    buffers.
    """
    cfg = load_config(config)
    steps = max(1, (epoch or 0) * iters_per_epoch)
    state = convert_official_byol(unwrap_state_dict(checkpoint), steps)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    check_against_model(state, model)
    model.load_state_dict(state, strict=True)
    out = dict(state_dict=state)
    momentum = None if optimizer is None else official_momentum(optimizer)
    if epoch is not None:
        out.update(
            training_state_at(cfg, model, epoch, iters_per_epoch, momentum))
    elif momentum is not None:
        raise ValueError('an optimizer state only makes sense with an '
                         'epoch to resume at')
    out.setdefault('meta', {}).update(
        converted_from='official ConNR byol-<epoch> state_dict' + (
            '' if optimizer is None else ' and optimizer-<epoch>'),
        official_epoch=epoch, ema_steps=steps)
    return out
