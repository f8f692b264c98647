"""Registries of mmconr: children of mmpretrain's, scope ``mmconr``.

A config with ``default_scope = 'mmconr'`` finds mmconr's modules first and
falls back to mmpretrain's and mmengine's (BYOL, ResNet, NonLinearNeck,
CIFAR10, RandomResizedCrop, SGD, CosineAnnealingLR, ...).
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(name: str, location: str = None) -> Registry:
    parent = getattr(mmpretrain_registry, name)
    return Registry(
        parent.name,
        parent=parent,
        scope='mmconr',
        locations=[location] if location else [])


RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
HOOKS = _child('HOOKS', 'mmconr.engine')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', 'mmconr.engine')
DATASETS = _child('DATASETS', 'mmconr.datasets')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
TRANSFORMS = _child('TRANSFORMS', 'mmconr.datasets')
MODELS = _child('MODELS', 'mmconr.models')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
BATCH_AUGMENTS = _child('BATCH_AUGMENTS')
TASK_UTILS = _child('TASK_UTILS')
METRICS = _child('METRICS', 'mmconr.evaluation')
EVALUATORS = _child('EVALUATORS', 'mmconr.evaluation')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')

# The registries whose modules live in mmconr's packages; importing their
# locations registers every module of mmconr.
LOCATED_REGISTRIES = (DATASETS, TRANSFORMS, MODELS, HOOKS, PARAM_SCHEDULERS,
                      METRICS, EVALUATORS)

__all__ = [
    'LOCATED_REGISTRIES',
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'BATCH_AUGMENTS', 'TASK_UTILS',
    'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]
