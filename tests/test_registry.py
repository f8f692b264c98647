"""mmconr's registries add names; they never give one of mmpretrain's,
mmengine's or mmcv's names another meaning."""
import mmconr.registry as registry
from mmconr.registry import MODELS, TRANSFORMS
from mmconr.utils import register_all_modules


def ancestor_names(reg) -> set:
    names, parent = set(), reg.parent
    while parent is not None:
        names |= set(parent.module_dict)
        parent = parent.parent
    return names


def test_no_mmconr_module_shadows_a_parent_name():
    register_all_modules()
    for name in registry.__all__:
        reg = getattr(registry, name)
        if not hasattr(reg, 'module_dict'):
            continue
        shadowed = set(reg.module_dict) & ancestor_names(reg)
        assert not shadowed, (name, sorted(shadowed))


def test_upstream_names_keep_their_meaning():
    from mmcv.transforms import LoadImageFromFile
    from mmengine.registry import MODELS as MMENGINE_MODELS

    from mmconr.datasets import CheckedLoadImageFromFile
    from mmconr.models import PortableSyncBatchNorm
    register_all_modules()
    assert MODELS.get('SyncBN') is MMENGINE_MODELS.get('SyncBN')
    assert MODELS.get('PortableSyncBN') is PortableSyncBatchNorm
    assert TRANSFORMS.get('LoadImageFromFile') is LoadImageFromFile
    assert TRANSFORMS.get('CheckedLoadImageFromFile') is \
        CheckedLoadImageFromFile


def test_every_located_package_registers_on_registration():
    register_all_modules()
    assert MODELS.get('ConNR').__module__.startswith('mmconr.models')
    assert registry.HOOKS.get('BoundaryFilterHook') is not None
    assert registry.PARAM_SCHEDULERS.get('WarmupCosineLR') is not None
    assert registry.METRICS.get('ClusteringMetric') is not None
    assert registry.DATASETS.get('UnlabeledImageFolder') is not None
