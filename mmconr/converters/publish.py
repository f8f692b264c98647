"""Checkpoints for others to use: the weights without the training state,
and the backbone alone (e.g. for mmpretrain's linear probe)."""
from collections import OrderedDict
from typing import Dict

import torch

from mmconr.utils.io import file_sha256

# where each network's backbone sits in a ConNR-style model's state_dict
BACKBONE_PREFIXES = {
    'online': 'backbone.',  # BYOL / SimSiam / MoCo online encoder
    'target': 'target_net.module.0.',  # BYOL's EMA target (clustered)
    'key': 'encoder_k.module.0.',  # MoCo's momentum key encoder
}


def state_dict_of(checkpoint) -> Dict[str, torch.Tensor]:
    """The weights of a loaded mmconr / mmengine checkpoint."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError('not a checkpoint with a state_dict of tensors')
    return state


def published(checkpoint) -> dict:
    """``state_dict`` (on the CPU) and ``meta`` only: no optimizer,
    schedulers, message hub or hook states, which a user of the weights
    does not need and which can hold anything."""
    state = OrderedDict(
        (k, v.detach().cpu()) for k, v in state_dict_of(checkpoint).items())
    meta = dict(checkpoint.get('meta') or {})
    keep = {k: meta[k] for k in ('epoch', 'iter', 'mmengine_version',
                                 'cfg', 'seed', 'dataset_meta') if k in meta}
    return dict(state_dict=state, meta=keep)


def backbone_weights(checkpoint, network: str = 'online') -> dict:
    """The backbone of ``network`` (``'online'``, ``'target'`` or
    ``'key'``) with its prefix removed, as ``{'state_dict': ...}``: keys of
    a plain mmpretrain ResNet, loadable strictly into the config's
    backbone."""
    if network not in BACKBONE_PREFIXES:
        raise ValueError(f'network must be one of {tuple(BACKBONE_PREFIXES)}'
                         f', got {network!r}')
    prefix = BACKBONE_PREFIXES[network]
    state = state_dict_of(checkpoint)
    out = OrderedDict((k[len(prefix):], v.detach().cpu())
                      for k, v in state.items() if k.startswith(prefix))
    if not out:
        found = sorted({k.split('.')[0] for k in state})
        raise ValueError(f'the checkpoint has no {network} backbone (no key '
                         f'starts with {prefix!r}; top-level names: '
                         f'{", ".join(found)})')
    return dict(state_dict=out)


def sha256_prefix(path: str, length: int = 8) -> str:
    """The first ``length`` hex digits of the file's SHA-256 (the
    OpenMMLab convention for published file names)."""
    return file_sha256(path)[:length]
