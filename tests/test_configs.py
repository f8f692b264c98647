"""Every config in configs/ runs two CPU training iterations through the
stage switch with its dataset swapped for a tiny fake in the same on-disk
format and image size (crops capped at 96 px), then its evaluation."""
import copy
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmconr.utils.config import hook_arg, set_hook_arg
from tests.fake_data import FAKE_WRITERS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)
# The study's continuations (configs/demo/study/, docs/demo.md) change a
# few keys of byol_conr_digits.py / byol_digits.py, which train below, and
# are trained end to end by `make digits-study`: here they are built, not
# trained, to keep the suite within its time.
STUDY = [p for p in CONFIGS if osp.join('configs', 'demo', 'study') in p]
TRAINED = [p for p in CONFIGS if p not in STUDY]


@pytest.fixture(scope='module')
def fake_roots(tmp_path_factory):
    roots = {}

    def get(dataset_type):
        if dataset_type not in roots:
            root = tmp_path_factory.mktemp(dataset_type)
            FAKE_WRITERS[dataset_type](str(root))
            roots[dataset_type] = str(root)
        return roots[dataset_type]

    return get


def dataloaders(cfg):
    loaders = [cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader]
    if 'feature_dataloader' in cfg:
        loaders.append(cfg.feature_dataloader)
    loaders = [loader for loader in loaders if loader is not None]
    loaders += [h['dataloader'] for h in cfg.get('custom_hooks', [])
                if isinstance(h.get('dataloader'), dict)]
    return loaders


# Crops of at most this size in the test: the backbones pool globally, so
# the pipelines and models are exercised the same, at a fraction of the cost
# of ImageNet-Dogs' 224 px (which alone took ~2 minutes of the suite).
MAX_CROP = 32
SIZE_KEYS = {'RandomResizedCrop': 'scale', 'CenterCrop': 'crop_size',
             'ResizeEdge': 'scale'}


def cap_image_sizes(node, limit=MAX_CROP):
    """Cap every crop / resize size of the config's pipelines at
    ``limit`` (a short-side resize at ``limit`` * 8 // 7, as 256 / 224)."""
    if isinstance(node, dict):
        key = SIZE_KEYS.get(node.get('type'))
        if key is not None and isinstance(node.get(key), int):
            cap = limit if node['type'] != 'ResizeEdge' else limit * 8 // 7
            node[key] = min(node[key], cap)
        for value in node.values():
            cap_image_sizes(value, limit)
    elif isinstance(node, (list, tuple)):
        for value in node:
            cap_image_sizes(value, limit)


def set_bn_groups(node, group_size):
    """GroupBN layers normalise over groups of the tiny batch."""
    if isinstance(node, dict):
        if node.get('type') == 'GroupBN':
            node['group_size'] = group_size
        for value in node.values():
            set_bn_groups(value, group_size)


def shrink(cfg, work_dir, fake_roots):
    """Fake data, a batch the neighbourhood accepts, BYOL in epoch 0 and
    ConNR in epoch 1, crops of at most MAX_CROP pixels."""
    cap_image_sizes(cfg._cfg_dict)
    neighborhood = cfg.model.get('neighborhood', {})
    # 16, or 32 where k1 = 30 (MoCo's queue length must be a multiple)
    batch = 16 if max(neighborhood.get('k1', 0),
                      neighborhood.get('k', 0)) <= 16 else 32
    for loader in dataloaders(cfg):
        loader.update(num_workers=0, persistent_workers=False)
        dataset = loader.dataset
        if dataset.type == 'Digits':
            dataset.indices = batch + 8
        else:
            dataset.data_root = fake_roots(dataset.type)
            if dataset.type in ('CIFAR10Whole', 'CIFAR20'):
                dataset.download = False
    cfg.train_dataloader.batch_size = batch
    set_bn_groups(cfg.model, batch // 2)  # two ghost groups per batch
    if any(loader.dataset.get('labels_from') == 'subfolder'
           for loader in dataloaders(cfg)):
        # the fake folder's sub-folders are 2 classes, not the config's K
        for hook in cfg.get('custom_hooks', []):
            if hook['type'] == 'BoundaryFilterHook':
                hook['match_classes'] = False
        for key in ('val_evaluator', 'test_evaluator'):
            evaluators = cfg.get(key) or []
            for evaluator in (evaluators if isinstance(evaluators, list)
                              else [evaluators]):
                evaluator.update(match_classes=False)
    if cfg.get('num_clusters', 0) > 20:
        # Tiny-ImageNet's K = 200 would need 200 images and 12 batches per
        # epoch; 10 clusters of its first batch + 8 images test the same
        for loader in dataloaders(cfg):
            loader.dataset.indices = batch + 8
        cfg.num_clusters = 10
        for hook in cfg.get('custom_hooks', []):
            if hook['type'] == 'BoundaryFilterHook':
                hook['match_classes'] = False
        for key in ('val_evaluator', 'test_evaluator'):
            cfg[key].update(num_clusters=10, match_classes=False)
    cfg.train_cfg.max_epochs = 2
    cfg.train_cfg.val_interval = 2
    for hook in cfg.get('custom_hooks', []):
        set_hook_arg(cfg, hook, 'start_epoch', 1)
        if 'kmeans_cfg' in hook:  # the official 10 x 300 is not under test
            hook_arg(cfg, hook, 'kmeans_cfg').update(n_init=1, max_iter=20)
        if hook_arg(cfg, hook, 'end_epoch') is not None:
            set_hook_arg(cfg, hook, 'end_epoch', 3)
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key) is not None:
            cfg[key]['kmeans_cfg'] = dict(
                cfg[key].get('kmeans_cfg') or {}, n_init=1, max_iter=20)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=100, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.work_dir = str(work_dir)
    cfg.visualizer.vis_backends = []
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.parametrize('path', STUDY,
                         ids=[osp.relpath(p, ROOT) for p in STUDY])
def test_study_config_builds(path, tmp_path, fake_roots):
    """The runner, model, hooks and optimizer of a study config build; its
    hooks read the stage keys it sets."""
    cfg = shrink(Config.fromfile(path), tmp_path, fake_roots)
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.call_hook('before_run')
    hooks = {type(h).__name__ for h in runner.hooks}
    has_conr = any(h['type'] == 'ConAffNeckHook'
                   for h in cfg.get('custom_hooks', []))
    assert ('ConAffNeckHook' in hooks) == has_conr
    assert runner.model.neighborhood is not None


@pytest.mark.parametrize('path', TRAINED,
                         ids=[osp.relpath(p, ROOT) for p in TRAINED])
def test_config_trains_two_iterations_through_stage_switch(
        path, tmp_path, fake_roots, monkeypatch):
    from mmpretrain.datasets import CIFAR10
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)
    cfg = shrink(Config.fromfile(path), tmp_path, fake_roots)
    assert cfg.default_scope == 'mmconr'
    has_conr = any(h['type'] == 'ConAffNeckHook'
                   for h in cfg.get('custom_hooks', []))
    runner = Runner.from_cfg(copy.deepcopy(cfg))
    runner.train()
    # two epochs (of one iteration, two for the fake ImageNet-Dogs)
    assert runner.iter == 2 * len(runner.train_dataloader)
    model = runner.model
    assert model.group_stage == has_conr
    hub = runner.message_hub
    assert ('train/kept_frac' in hub.log_scalars) == has_conr
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] != 'BoundaryFilterHook':
            continue
        # epoch 1 of the stage t0 = 1 .. T = 3: fr0, or one epoch further on
        # with the official 1-based count, fr0 + (1 - fr0) * (2 - 1) / (3 - 1)
        fr0 = hook_arg(cfg, hook, 'start_fraction')
        expected = fr0
        if hook_arg(cfg, hook, 'end_epoch') is not None and hook_arg(
                cfg, hook, 'one_based_epochs'):
            expected = fr0 + (1 - fr0) / 2
        assert model.keep_fraction == pytest.approx(expected)
        assert model.centroids.shape[0] == cfg.num_clusters
    if cfg.val_dataloader is None:  # unlabelled data: nothing to score
        assert 'val/clustering/NMI' not in hub.log_scalars
        return
    nmi = hub.get_scalar('val/clustering/NMI').current()
    assert 0.0 <= nmi <= 100.0


def test_model_index_lists_every_config():
    import yaml
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    listed = {}
    for metafile in index['Import']:
        with open(osp.join(ROOT, metafile)) as f:
            meta = yaml.safe_load(f)
        for model in meta['Models']:
            listed[model['Config']] = model
            assert 'Weights' not in model, 'no weights exist yet'
            for result in model.get('Results', []):
                assert set(result['Metrics']) == {'NMI', 'ACC', 'ARI'}
    expected = {osp.relpath(p, ROOT) for p in CONFIGS}
    assert set(listed) == expected
    assert listed['configs/conr/byol_conr_imagenet_dogs.py']['Results'][0][
        'Metrics'] == dict(NMI=74.4, ACC=79.4, ARI=66.7)
    # the batch a metafile states is the config's (global) batch
    for path, model in listed.items():
        cfg = Config.fromfile(osp.join(ROOT, path))
        batch = cfg.get('global_batch_size') or \
            cfg.train_dataloader.batch_size
        assert model['Metadata']['Batch Size'] == batch, path
