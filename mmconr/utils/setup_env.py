"""Module registration and the default scope."""
import datetime
import warnings

from mmengine import DefaultScope
from mmpretrain.utils import register_all_modules as register_mmpretrain

from mmconr.compat import apply_patches
from mmconr.registry import LOCATED_REGISTRIES


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers into mmconr's (and mmpretrain's)
    registries, apply mmconr's patches of mmengine / mmcv
    (:func:`mmconr.compat.apply_patches`: safe checkpoint loading, atomic
    saving, mmcv's ``adjust_hue`` under numpy 2) and optionally make
    ``mmconr`` the default scope."""
    register_mmpretrain(init_default_scope=False)
    # mmconr's packages, through the registries' import locations (so that
    # this module needs none of them at import time: no import cycle)
    for registry in LOCATED_REGISTRIES:
        registry.import_from_location()
    apply_patches()
    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None or \
        not DefaultScope.check_instance_created('mmconr')
    if never_created:
        DefaultScope.get_instance('mmconr', scope_name='mmconr')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmconr':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmconr", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmconr".')
        new_instance_name = f'mmconr-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmconr')
