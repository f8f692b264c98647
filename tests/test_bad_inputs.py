"""Bad input stops with a message that names the problem, before work is
lost (issue: "Multi-GPU and multi-node correctness ... clear errors").

Covered elsewhere: a class folder missing from an ImageNet subset and
truncated STL-10 binaries (test_datasets/test_benchmark_datasets.py),
k2 > k1 and NaN features given to the neighbourhood functions
(test_models/test_neighborhoods.py), a fraction outside (0, 1] for the
schedule and the model (test_models/test_boundary.py, test_connr.py), a
global batch smaller than the neighbourhood inside the model
(test_models/test_connr.py::test_batch_smaller_than_neighbourhood_falls_
back_to_byol), num_clusters larger than the data for k-means
(test_evaluation/test_metrics.py).
"""
import os
import os.path as osp
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

from mmconr.datasets import CorruptImageError
from mmconr.engine import BoundaryFilterHook
from mmconr.evaluation import ClusteringMetric
from mmconr.registry import DATASETS, HOOKS, TRANSFORMS
from mmconr.utils import load_checkpoint_file
from tests.fake_data import write_imagenet_tree

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')


# ----------------------------------------------------------- data roots
@pytest.mark.parametrize('ds_type', ['CIFAR10Whole', 'CIFAR20', 'STL10',
                                     'ImageNet10', 'ImageNetDogs',
                                     'TinyImageNet'])
@pytest.mark.parametrize('root_kind', ['missing', 'empty'])
def test_missing_or_empty_data_root(tmp_path, ds_type, root_kind):
    root = tmp_path / 'data'
    if root_kind == 'empty':
        root.mkdir()
    cfg = dict(type=ds_type, data_root=str(root), pipeline=[])
    if ds_type.startswith('CIFAR'):
        cfg['download'] = False
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(cfg)
    assert str(root) in str(err.value)
    assert ds_type in str(err.value) or 'STL-10' in str(err.value)


# ------------------------------------------------------------ bad images
def jpeg_bytes(size=(40, 30), seed=0):
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 255, size[::-1] + (3, ), np.uint8))
    path = f'/tmp/_mmconr_{os.getpid()}_{seed}.jpg'
    img.save(path, quality=90)
    with open(path, 'rb') as f:
        data = f.read()
    os.unlink(path)
    return data


@pytest.mark.parametrize('kind,match', [
    ('truncated', 'is truncated or corrupt'),
    ('empty', r'is empty \(0 bytes\)'),
    ('not-an-image', 'could not be decoded'),
])
def test_corrupt_image_names_the_file(tmp_path, kind, match):
    data = jpeg_bytes()
    content = dict(truncated=data[:len(data) // 2], empty=b'',
                   **{'not-an-image': b'this is a text file\n' * 20})[kind]
    path = tmp_path / f'{kind}.jpg'
    path.write_bytes(content)
    load = TRANSFORMS.build(dict(type='CheckedLoadImageFromFile'))
    with pytest.raises(CorruptImageError, match=match) as err:
        load(dict(img_path=str(path)))
    assert str(path) in str(err.value)
    # ignore_empty keeps mmcv's meaning: skip instead of failing
    skip = TRANSFORMS.build(
        dict(type='CheckedLoadImageFromFile', ignore_empty=True))
    assert skip(dict(img_path=str(path))) is None
    # an intact file still loads (and bytes after the JPEG end are fine)
    good = tmp_path / 'good.jpg'
    good.write_bytes(data + b'trailing bytes')
    assert load(dict(img_path=str(good)))['img'].shape == (30, 40, 3)


def test_corrupt_image_inside_a_dataset(tmp_path):
    wnids = [f'n0000000{i}' for i in range(3)]
    write_imagenet_tree(tmp_path, wnids, per_class=2)
    victim = sorted((tmp_path / wnids[1]).iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:200])
    dataset = DATASETS.build(
        dict(type='ImageNetSubset', data_root=str(tmp_path), wnids=wnids,
             images_per_class=2,
             pipeline=[dict(type='CheckedLoadImageFromFile'),
                       dict(type='PackInputs')]))
    with pytest.raises(CorruptImageError, match=str(victim)):
        for i in range(len(dataset)):
            dataset[i]


# ------------------------------------------------ runner-level checks
def tiny_cfg(work_dir, **changes):
    cfg = Config.fromfile(DEMO)
    for key in ('train_dataloader', 'feature_dataloader', 'val_dataloader',
                'test_dataloader'):
        cfg[key].dataset.indices = 64
    cfg.train_dataloader.batch_size = 20
    cfg.train_cfg.max_epochs = 3
    cfg.train_cfg.val_interval = 100
    for hook in cfg.custom_hooks:
        hook.start_epoch = 2
    cfg.custom_hooks[1].end_epoch = 3
    cfg.default_hooks.checkpoint.interval = 1
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 100
    cfg.work_dir = str(work_dir)
    cfg.merge_from_dict(changes)
    return cfg


def train(cfg):
    torch.set_num_threads(1)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def assert_nothing_trained(work_dir):
    assert not [f for f in os.listdir(work_dir) if f.endswith('.pth')]


@pytest.mark.parametrize('key,value,match', [
    ('model.neighborhood.k', 24,
     r'global batch size 20 .* smaller than the neighbourhood'),
    ('model.neighborhood.k1', 30,
     r'global batch size 20 .* smaller than the neighbourhood'),
])
def test_neighbourhood_larger_than_global_batch(tmp_path, key, value, match):
    cfg = tiny_cfg(tmp_path, **{key: value})
    with pytest.raises(ValueError, match=match):
        train(cfg)
    assert_nothing_trained(tmp_path)


def test_k2_larger_than_k1_is_refused_when_building(tmp_path):
    cfg = tiny_cfg(tmp_path, **{'model.neighborhood.k2': 12})
    with pytest.raises(ValueError, match='k2=12 must not exceed k1=10'):
        train(cfg)


@pytest.mark.parametrize('fraction', [0.0, -0.5, 1.5, float('nan')])
def test_fraction_outside_unit_interval(fraction):
    with pytest.raises(ValueError, match=f'got {fraction}'):
        BoundaryFilterHook(dataloader='feature_dataloader', num_clusters=10,
                           start_epoch=2, end_epoch=3,
                           start_fraction=fraction)


def test_num_clusters_larger_than_the_dataset(tmp_path):
    cfg = tiny_cfg(tmp_path, num_clusters=100)
    cfg.custom_hooks[1].num_clusters = 100
    cfg.val_evaluator.num_clusters = 100
    cfg.val_evaluator.match_classes = False
    with pytest.raises(ValueError,
                       match='num_clusters=100 is larger than the 64'):
        train(cfg)
    assert_nothing_trained(tmp_path)


def test_num_clusters_not_matching_the_labels(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks[1].num_clusters = 7
    with pytest.raises(ValueError, match='BoundaryFilterHook: num_clusters=7 '
                       'does not match the 10 classes of Digits'):
        train(cfg)
    assert_nothing_trained(tmp_path)
    cfg = tiny_cfg(tmp_path)
    cfg.val_evaluator.num_clusters = 7
    with pytest.raises(ValueError, match='ClusteringMetric: num_clusters=7 '
                       'does not match the 10 classes'):
        train(cfg)
    assert_nothing_trained(tmp_path)
    metric = ClusteringMetric(num_clusters=7, match_classes=False)
    metric.dataset_meta = dict(classes=tuple('abcdefghij'))  # allowed


def test_last_batch_smaller_than_k_trains(tmp_path):
    """64 images, batch 20, drop_last=False: the last batch of 4 < k=10
    uses the instance loss (with a warning) instead of crashing."""
    cfg = tiny_cfg(tmp_path)
    cfg.train_dataloader.drop_last = False
    runner = train(cfg)
    assert runner.iter == 3 * 4


@HOOKS.register_module(force=True)
class PoisonParameters(Hook):
    """Sets the online backbone's first conv to NaN before an iteration
    (or the target network's after an epoch)."""
    priority = 'LOWEST'

    def __init__(self, epoch, iteration=None, target=False):
        self.epoch, self.iteration, self.target = epoch, iteration, target

    def _poison(self, runner):
        model = runner.model
        net = model.target_net.module[0] if self.target else model.backbone
        net.conv1.weight.data.fill_(float('nan'))

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if (not self.target and runner.epoch == self.epoch
                and batch_idx == self.iteration):
            self._poison(runner)

    def after_train_epoch(self, runner):
        if self.target and runner.epoch == self.epoch:
            self._poison(runner)


def load_good(path):
    ckpt = load_checkpoint_file(path, map_location='cpu')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())
    return ckpt


def test_nan_loss_stops_with_iteration_and_keeps_last_checkpoint(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(
        dict(type='PoisonParameters', epoch=1, iteration=1))
    with pytest.raises(FloatingPointError) as err:
        train(cfg)
    msg = str(err.value)
    assert 'non-finite loss at epoch 1 iteration 2/3 (global iteration 5)' \
        in msg
    assert 'loss=nan' in msg and 'backbone.conv1.weight' in msg
    assert 'epoch_1.pth' in msg
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith('.pth')) \
        == ['epoch_1.pth']
    load_good(tmp_path / 'epoch_1.pth')


def test_nan_features_in_group_stage_name_the_iteration(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(
        dict(type='PoisonParameters', epoch=2, iteration=2))
    with pytest.raises(FloatingPointError,
                       match='target features of the global batch are NaN '
                       'or inf at epoch 2 iteration 8'):
        train(cfg)
    load_good(tmp_path / 'epoch_2.pth')


def test_nan_dataset_features_stop_before_the_epoch(tmp_path):
    cfg = tiny_cfg(tmp_path)
    cfg.custom_hooks.append(dict(type='PoisonParameters', epoch=1,
                                 target=True))
    with pytest.raises(FloatingPointError,
                       match='BoundaryFilterHook: epoch 2: the target '
                       'features of 64 of 64 samples are NaN'):
        train(cfg)


# ----------------------------------------------------------- checkpoints
def test_checkpoint_of_another_architecture_lists_keys(tmp_path):
    other = tiny_cfg(tmp_path / 'other', **{
        'model.backbone.base_channels': 8, 'model.neck.in_channels': 64,
        'train_cfg.max_epochs': 1})
    train(other)
    cfg = tiny_cfg(tmp_path / 'ours',
                   load_from=str(tmp_path / 'other/epoch_1.pth'))
    with pytest.raises(RuntimeError) as err:
        train(cfg)
    msg = str(err.value)
    assert 'does not fit the model ConNR' in msg
    assert '192 shape: backbone.layer1.0.bn1.bias: checkpoint (8,) vs ' \
        'model (16,)' in msg
    assert '12 unexpected: backbone.layer1.0.downsample' in msg
    assert_nothing_trained(tmp_path / 'ours')
    # a checkpoint with keys of another model
    torch.save({'state_dict': {'encoder.fc.weight': torch.zeros(2, 2)}},
               tmp_path / 'foreign.pth')
    cfg = tiny_cfg(tmp_path / 'ours', load_from=str(tmp_path /
                                                    'foreign.pth'))
    with pytest.raises(RuntimeError, match=r'265 missing: backbone.bn1.bias,'
                       r'.*; 1 unexpected: encoder.fc.weight'):
        train(cfg)


KILL_DURING_SAVE = r'''
import os, signal, sys, torch
sys.path.insert(0, {root!r})
from mmconr.utils import register_all_modules
register_all_modules()
from mmengine.runner import checkpoint as ckpt_mod
real_save = torch.save
def dying_save(obj, f, *args, **kwargs):
    f.write(b'half a checkpoint')
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = dying_save
ckpt_mod.save_checkpoint({{'state_dict': {{}}}}, {path!r})
'''


def test_checkpoint_is_written_atomically(tmp_path):
    from mmengine.runner.checkpoint import save_checkpoint
    path = tmp_path / 'epoch_1.pth'
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, str(path))
    proc = subprocess.run(
        [sys.executable, '-c',
         KILL_DURING_SAVE.format(root=ROOT, path=str(path))],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    # the killed save left the previous checkpoint intact
    assert torch.equal(torch.load(path)['state_dict']['w'], torch.ones(3))
    # (the killed process could only leave its hidden temporary file)
    left = set(os.listdir(tmp_path)) - {'epoch_1.pth'}
    assert len(left) <= 1 and all(f.endswith('.part') for f in left)
    # an exception while saving leaves neither the file nor a partial one
    with pytest.raises(Exception, match='pickle'):
        save_checkpoint({'bad': lambda: None}, str(tmp_path / 'new.pth'))
    assert set(os.listdir(tmp_path)) == left | {'epoch_1.pth'}
