"""Configs outside a training run: load one (also from the configs shipped
with mmconr) with its modules registered."""
import os.path as osp
from typing import Optional, Union

from mmengine.config import Config
from mmengine.registry import init_default_scope

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
