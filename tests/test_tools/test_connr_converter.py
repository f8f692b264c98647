"""tools/model_converters/connr_to_mmconr.py on a fake official checkpoint
with exactly the official keys and shapes (tests/data/, a copy of
../shared/data/official_connr_byol_resnet18_keys.txt): the converted
checkpoint loads strictly into configs/conr/byol_conr_cifar10.py's model,
whose online, predictor and target outputs equal those of the official
modules (re-implemented here in plain torch with the official names), and
it resumes the config at epoch 800 with the schedule's lr and the official
optimizer's momentum buffers."""
import copy
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.runner import Runner, load_checkpoint
from torch import nn

from mmconr.converters import rename_official_key
from mmconr.utils import load_checkpoint_file
from tests.fake_data import write_cifar10
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEYS = osp.join(ROOT, 'tests', 'data', 'official_connr_byol_resnet18_keys.txt')
CFG = osp.join(ROOT, 'configs', 'conr', 'byol_conr_cifar10.py')


def official_layout():
    layout = {}
    with open(KEYS) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                key, shape = line.split()
                layout[key] = () if shape == 'scalar' else tuple(
                    int(s) for s in shape.split('x'))
    return layout


def official_resnet18_cifar():
    """bigresnet18 as the official code lays it out: 3x3 stem, no
    max-pool, torchvision's residual stages, global average pool."""
    tv = torchvision.models.resnet18()
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64),
        nn.ReLU(inplace=True), tv.layer1, tv.layer2, tv.layer3, tv.layer4,
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


def official_mlp(in_channels):
    return nn.Sequential(
        nn.Linear(in_channels, 4096), nn.BatchNorm1d(4096),
        nn.ReLU(inplace=True), nn.Linear(4096, 256))


class OfficialBYOL(nn.Module):
    """The official BYOL wrapper's modules (names as in its state_dict)."""

    def __init__(self):
        super().__init__()
        self.encoder_q = official_resnet18_cifar()
        self.projector_q = official_mlp(512)
        self.encoder_k = official_resnet18_cifar()
        self.projector_k = official_mlp(512)
        self.predictor = official_mlp(256)
        self.encoder = nn.Sequential(self.encoder_k, self.projector_k)


def fake_official_state(layout, seed=0):
    """Random tensors of the official keys and shapes: every weight, bias
    and BN statistic distinct; ``encoder.*`` the same tensors as
    ``encoder_k`` / ``projector_k`` (shared modules)."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout.items():
        if key.startswith('encoder.'):
            continue
        if key.endswith('num_batches_tracked'):
            value = torch.randint(1, 10**6, shape, generator=gen)
        elif key.endswith('running_var'):
            value = 0.5 + torch.rand(shape, generator=gen)
        elif len(shape) == 1 and key.endswith('.weight'):  # BN scale
            value = 1 + 0.2 * torch.randn(shape, generator=gen)
        else:
            fan_in = max(1, math.prod(shape[1:]))
            value = torch.randn(shape, generator=gen) / math.sqrt(fan_in)
            if key.endswith('bias') or key.endswith('running_mean'):
                value = 0.2 * torch.randn(shape, generator=gen)
        state[key] = value
    for key in layout:
        if key.startswith('encoder.0.'):
            state[key] = state['encoder_k.' + key[len('encoder.0.'):]]
        elif key.startswith('encoder.1.'):
            state[key] = state['projector_k.' + key[len('encoder.1.'):]]
    return state


def fake_official_optimizer(seed=1):
    """An official optimizer-800 state: SGD with one param group per
    parameter of ``byol.named_parameters()`` (basic_template.py
    collect_params), momentum buffers for the trained (online) ones."""
    gen = torch.Generator().manual_seed(seed)
    reference = OfficialBYOL()
    for p in list(reference.encoder_k.parameters()) + list(
            reference.projector_k.parameters()):
        p.requires_grad = False
    groups, state = [], {}
    for index, (name, param) in enumerate(reference.named_parameters()):
        groups.append(dict(name=name, params=[index], lr=0.0146,
                           momentum=0.9, weight_decay=5e-4))
        if param.requires_grad:
            state[index] = dict(
                momentum_buffer=torch.randn(param.shape, generator=gen))
    return dict(state=state, param_groups=groups)


def converter():
    return load_tool('model_converters/connr_to_mmconr')


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('converter')
    layout = official_layout()
    assert len(layout) == 396
    state = fake_official_state(layout)
    src, dst = tmp / 'byol-800', tmp / 'connr_epoch800.pth'
    optimizer = tmp / 'optimizer-800'
    torch.save(state, str(src))
    torch.save(fake_official_optimizer(), str(optimizer))
    converter().main([str(src), str(dst), '--iters-per-epoch', '1',
                      '--optimizer', str(optimizer)])
    return layout, state, str(dst)


def test_reference_has_the_official_layout(converted):
    layout, state, _ = converted
    reference = OfficialBYOL()
    assert {k: tuple(v.shape) for k, v in reference.state_dict().items()
            } == layout
    reference.load_state_dict(state, strict=True)


def test_converted_model_computes_what_the_official_modules_compute(
        converted):
    from mmconr.registry import MODELS
    _, state, dst = converted
    reference = OfficialBYOL()
    reference.load_state_dict(state, strict=True)
    reference.eval()
    model = revert_sync_batchnorm(MODELS.build(Config.fromfile(CFG).model))
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    model.eval()
    assert int(model.target_net.steps) == 800  # 800 epochs x 1 iteration
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        online = model.neck(model.backbone(x))[0]
        ref_online = reference.projector_q(reference.encoder_q(x))
        torch.testing.assert_close(online, ref_online, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(
            model.head.predictor([online])[0],
            reference.predictor(ref_online), rtol=1e-4, atol=1e-5)
        target = model.target_net(x)[0]
        ref_target = reference.encoder(x)
        torch.testing.assert_close(target, ref_target, rtol=1e-4, atol=1e-5)
        # the clustered features: the normalised target projections
        torch.testing.assert_close(model.extract_target_feat(x),
                                   F.normalize(ref_target, dim=1),
                                   rtol=1e-4, atol=1e-5)
        # online and target are different networks, as in the official
        assert not torch.allclose(online, target, atol=1e-3)


def runner_cfg(tmp_path, load_from, resume, max_epochs):
    cfg = Config.fromfile(CFG)
    root = write_cifar10(str(tmp_path / 'cifar'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'feature_dataloader'):
        cfg[key].update(num_workers=0, persistent_workers=False)
        cfg[key].dataset.update(data_root=root, download=False)
    cfg.train_dataloader.batch_size = 16  # 18 fake images: 1 iteration
    for norm_cfg in (cfg.model.backbone.norm_cfg, cfg.model.neck.norm_cfg,
                     cfg.model.head.predictor.norm_cfg):
        norm_cfg.group_size = 8
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = 10**6
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=10**6, save_last=False)
    cfg.visualizer.vis_backends = []
    cfg.work_dir = str(tmp_path / 'work')
    cfg.log_level = 'WARNING'
    cfg.load_from, cfg.resume = load_from, resume
    return cfg


def test_load_from_and_resume_at_epoch_800(converted, tmp_path, monkeypatch):
    from mmpretrain.datasets import CIFAR10
    monkeypatch.setattr(CIFAR10, '_check_integrity', lambda self: True)
    _, _, dst = converted
    expected = load_checkpoint_file(dst)['state_dict']
    # load_from: exactly the converted weights
    runner = Runner.from_cfg(runner_cfg(tmp_path, dst, False, 1000))
    runner.load_or_resume()
    loaded = runner.model.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    assert runner.epoch == 0
    # --resume: the ConNR stage continues at epoch 800 of 1000, with the
    # official momentum buffers
    runner = Runner.from_cfg(
        copy.deepcopy(runner_cfg(tmp_path, dst, True, 801)))
    runner.load_or_resume()
    official = fake_official_optimizer()
    names = [g['name'] for g in official['param_groups']]
    optimizer = runner.optim_wrapper.optimizer
    params = dict(runner.model.named_parameters())
    checked = 0
    for index, entry in official['state'].items():
        param = params[rename_official_key(names[index])]
        assert torch.equal(optimizer.state[param]['momentum_buffer'],
                           entry['momentum_buffer'])
        checked += 1
    assert checked == sum(p.requires_grad for p in params.values())
    # (a runner resumed outside train() builds its schedulers after the
    # optimizer state: train a fresh one)
    runner = Runner.from_cfg(
        copy.deepcopy(runner_cfg(tmp_path, dst, True, 801)))
    runner.train()
    assert runner.epoch == 801 and runner.iter == 801
    assert runner.model.group_stage
    assert int(runner.model.target_net.steps) == 801
    # the official lr of iteration 801 (1-based n_iter 802, one iteration
    # per epoch; basic_template.py), x 0.1 of the ConNR stage
    lr = 0.1 * 0.5 * (1 + math.cos(math.pi * (802 - 50) / 1000)) * 0.1
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(
        lr, rel=1e-6)


def test_bad_checkpoints_are_named(converted, tmp_path):
    from mmconr.converters import convert_official_byol
    _, state, _ = converted
    bad = dict(state)
    bad['encoder_q.9.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='not of the official.*encoder_q.9'):
        convert_official_byol(bad)
    bad = dict(state)
    bad['encoder.0.0.weight'] = torch.zeros_like(bad['encoder.0.0.weight'])
    with pytest.raises(ValueError, match='encoder.0.0.weight'):
        convert_official_byol(bad)
    bad = {k: v for k, v in state.items() if k != 'predictor.3.bias'}
    src = tmp_path / 'missing.pth'
    torch.save(bad, str(src))
    with pytest.raises(ValueError, match='1 missing .*head.predictor.fc1'):
        converter().main([str(src), str(tmp_path / 'out.pth')])
