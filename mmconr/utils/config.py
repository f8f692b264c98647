"""Configs outside a training run: load one (also from the configs shipped
with mmconr) with its modules registered."""
import os.path as osp
from typing import Any, Optional, Union

from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmconr.registry import HOOKS
from .paths import find_shipped
from .setup_env import register_all_modules

ConfigLike = Union[str, Config]


def load_config(config: ConfigLike, cfg_options: Optional[dict] = None
                ) -> Config:
    """A :class:`Config` from a path (or a copy of one), with overrides.

    A relative path that is not there from the working directory, such as
    ``configs/demo/byol_conr_digits.py``, is looked up among the configs
    shipped with mmconr (``mmconr/.mim/`` or the clone's root)."""
    if isinstance(config, Config):
        cfg = config.copy()
    else:
        if not osp.isfile(config):
            try:
                shipped = find_shipped(config)
            except ValueError:  # absolute, or outside the repository
                shipped = None
            if shipped is None or not osp.isfile(shipped):
                raise FileNotFoundError(f'config file not found: {config}')
            config = shipped
        cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'mmconr'))
    return cfg


def config_value(cfg: Config, owner: str, name: str, value: Any) -> Any:
    """A hook argument given as a string names a top-level key of the
    config (e.g. ``start_epoch='conr_start_epoch'``), so that one hook block
    (``configs/_base_/conr_stage.py``) serves every config; other values are
    returned as they are."""
    if not isinstance(value, str):
        return value
    if value not in cfg:
        raise KeyError(f'{owner}: {name}={value!r} is not a top-level key of '
                       'the config')
    return cfg[value]


def find_hook(cfg: Config, hook_type: str) -> Optional[dict]:
    """The first ``custom_hooks`` entry of ``hook_type``, or ``None``."""
    for hook in cfg.get('custom_hooks', []) or []:
        if hook.get('type') == hook_type:
            return hook
    return None


def reads_config_key(hook: dict, name: str) -> bool:
    """Whether the hook's ``name`` argument may name a config key (it is
    one of its class's ``CONFIG_KEYS``)."""
    cls = HOOKS.get(hook.get('type') or '')
    return name in getattr(cls, 'CONFIG_KEYS', ())


def hook_arg(cfg: Config, hook: dict, name: str, default: Any = None) -> Any:
    """The value of a hook argument, following a config key it names."""
    value = hook.get(name, default)
    if not reads_config_key(hook, name):
        return value
    return config_value(cfg, hook.get('type'), name, value)


def set_hook_arg(cfg: Config, hook: dict, name: str, value: Any) -> None:
    """Set a hook argument; where it names a config key, set that key (so
    that every hook reading it sees the change)."""
    current = hook.get(name)
    if isinstance(current, str) and current in cfg and reads_config_key(
            hook, name):
        cfg[current] = value
    else:
        hook[name] = value
