"""Every change mmconr makes to the libraries it runs on, in one place.

Nothing here happens on import. :func:`apply_patches` applies them all
(idempotent); :func:`mmconr.utils.register_all_modules` calls it, and so
every tool, the Python API and the tests get the same behaviour.

======================  ==========================================  ========
patch                   why                                         applies
======================  ==========================================  ========
checkpoint loading      mmengine + torch >= 2.6 cannot resume, and  always
                        a full unpickle would run code; mmconr
                        loads weights-only with a narrow allow-list
                        (:mod:`.mmengine_checkpoint`)
atomic checkpoints      mmengine writes ``epoch_N.pth`` in place    mmengine
                        (:mod:`.mmengine_checkpoint`)               <= 0.10.7
``adjust_hue``          mmcv overflows for negative hue factors     mmcv <=
                        under numpy 2 (:mod:`.mmcv_hue`)            2.2.0 and
                                                                    numpy >= 2
======================  ==========================================  ========
"""
from .mmcv_hue import patch_adjust_hue
from .mmengine_checkpoint import patch_atomic_save, patch_checkpoint_loading

PATCHES = {
    'mmengine.checkpoint_loading': patch_checkpoint_loading,
    'mmengine.atomic_save': patch_atomic_save,
    'mmcv.adjust_hue': patch_adjust_hue,
}


def apply_patches() -> dict:
    """Apply every patch whose version guard holds; returns
    ``{name: whether it is in place}``."""
    return {name: patch() for name, patch in PATCHES.items()}


__all__ = ['PATCHES', 'apply_patches']
