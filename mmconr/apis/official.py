"""Checkpoints of the official ConNR code as mmconr checkpoints.

The official code saves its BYOL wrapper's ``state_dict()`` (one file per
module, e.g. ``BYOLWrapper-800``) with

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
        match = re.fullmatch(r'(\w+?)\.(\d+)(\..+)?', key)
        if match is None or match.group(1) not in _PREFIXES:
            unknown.append(key)
            continue
        module, index, rest = match.groups()
        prefix, parts = _PREFIXES[module]
        if index not in parts or not rest:
            unknown.append(key)
            continue
        out[prefix + parts[index] + rest] = value.clone()
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


def training_state_at(cfg, model, epoch: int, iters_per_epoch: int) -> dict:
    """What tools/train.py --resume needs to continue ``cfg`` at the start
    of ``epoch``: ``meta`` (epoch, iter), an empty ``message_hub``, the
    optimizer with the lr of that iteration (no momentum buffers: the
    official state_dict has none) and the parameter schedulers stepped to
    that iteration, as mmengine's ParamSchedulerHook steps them."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    from mmconr.registry import PARAM_SCHEDULERS
    if epoch < 0 or iters_per_epoch < 1:
        raise ValueError(f'epoch={epoch} and iters_per_epoch='
                         f'{iters_per_epoch} must be >= 0 and >= 1')
    max_epochs = cfg.train_cfg['max_epochs']
    if epoch >= max_epochs:
        raise ValueError(f'epoch={epoch} is not before the config\'s '
                         f'max_epochs={max_epochs}')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scheduler_cfgs = cfg.get('param_scheduler') or []
    if isinstance(scheduler_cfgs, dict):
        scheduler_cfgs = [scheduler_cfgs]
    schedulers = []
    for sched in scheduler_cfgs:
        sched = dict(sched)
        sched.setdefault('end', max_epochs if sched.get('by_epoch', True)
                         else max_epochs * iters_per_epoch)
        schedulers.append(PARAM_SCHEDULERS.build(
            sched, default_args=dict(optimizer=optim_wrapper,
                                     epoch_length=iters_per_epoch)))
    with warnings.catch_warnings():  # "scheduler.step() before optimizer"
        warnings.simplefilter('ignore')
        for it in range(epoch * iters_per_epoch):
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
            if (it + 1) % iters_per_epoch == 0:
                for s in schedulers:
                    if s.by_epoch:
                        s.step()
    hub = MessageHub.get_instance('mmconr-official-converter')
    return dict(
        meta=dict(epoch=epoch, iter=epoch * iters_per_epoch),
        message_hub=hub.state_dict(),
        optimizer=optim_wrapper.state_dict(),
        param_schedulers=[s.state_dict() for s in schedulers])


def official_to_mmconr(checkpoint,
                       config,
                       epoch: Optional[int] = 800,
                       iters_per_epoch: int = 234) -> dict:
    """An mmconr checkpoint from an official one (a file's loaded content).

    The weights are checked key by key and shape by shape against the
    model of ``config`` (e.g. ``configs/conr/byol_conr_cifar10.py``), which
    loads them with ``load_from``. With ``epoch`` (the official warm-up
    ends at 800) the checkpoint also resumes that config at that epoch
    (``tools/train.py CONFIG --resume FILE``), the EMA counter set to
    ``epoch * iters_per_epoch`` (234 = 60,000 CIFAR-10 images // batch 256
    on one process; 8 processes: 29).
    """
    from mmengine.model import revert_sync_batchnorm

    from mmconr.registry import MODELS
    from .inference import load_config
    cfg = load_config(config)
    steps = max(1, (epoch or 0) * iters_per_epoch)
    state = convert_official_byol(unwrap_state_dict(checkpoint), steps)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    check_against_model(state, model)
    model.load_state_dict(state, strict=True)
    out = dict(state_dict=state)
    if epoch is not None:
        out.update(training_state_at(cfg, model, epoch, iters_per_epoch))
    out.setdefault('meta', {}).update(
        converted_from='official ConNR BYOLWrapper state_dict',
        official_epoch=epoch, ema_steps=steps)
    return out
