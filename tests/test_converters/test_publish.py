"""Published checkpoints and backbone weights: the tools and the pure
functions behind them."""
import hashlib
import os.path as osp

import pytest
import torch

from mmconr.converters import backbone_weights, published
from mmconr.registry import MODELS
from mmconr.utils import load_checkpoint_file
from mmconr.utils.config import load_config
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tool(name):
    return load_tool(f'model_converters/{name}')


@pytest.fixture(scope='module')
def demo():
    cfg = load_config(osp.join(ROOT, 'configs/demo/byol_conr_digits.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return cfg, model


def training_checkpoint(model, path):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.save(dict(state_dict=model.state_dict(),
                    optimizer=opt.state_dict(),
                    meta=dict(epoch=3, iter=30, seed=1, extra='x'),
                    message_hub=dict(log_scalars={})), path)


def test_publish_keeps_weights_and_names_the_file_by_hash(demo, tmp_path):
    _, model = demo
    src = str(tmp_path / 'epoch_3.pth')
    training_checkpoint(model, src)
    assert tool('publish_model').main([src, str(tmp_path / 'm.pth')]) == 0
    [out] = [p for p in tmp_path.iterdir() if p.name.startswith('m-')]
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:8]
    assert out.name == f'm-{digest}.pth'
    loaded = load_checkpoint_file(str(out))
    assert set(loaded) == {'state_dict', 'meta'}
    assert loaded['meta'] == dict(epoch=3, iter=30, seed=1)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded['state_dict'][key], value), key


@pytest.mark.parametrize('network,prefix', [('online', 'backbone.'),
                                            ('target',
                                             'target_net.module.0.')])
def test_backbone_loads_strictly_into_the_configs_backbone(
        demo, tmp_path, network, prefix):
    cfg, model = demo
    src = str(tmp_path / 'epoch_3.pth')
    training_checkpoint(model, src)
    dst = str(tmp_path / 'backbone.pth')
    assert tool('extract_backbone_weights').main(
        [src, dst, '--network', network]) == 0
    weights = load_checkpoint_file(dst)['state_dict']
    backbone = MODELS.build(cfg.model.backbone)
    backbone.load_state_dict(weights, strict=True)
    state = model.state_dict()
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, state[prefix + key]), key


def test_a_missing_network_is_named(demo, capsys, tmp_path):
    _, model = demo
    with pytest.raises(ValueError, match="no key starts with 'encoder_k"):
        backbone_weights(dict(state_dict=model.state_dict()), 'key')
    with pytest.raises(ValueError, match='not a checkpoint'):
        published(dict(state_dict={}))
    src = str(tmp_path / 'epoch_3.pth')
    training_checkpoint(model, src)
    code = tool('extract_backbone_weights').main(
        [src, str(tmp_path / 'b.pth'), '--network', 'key'])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith('extract_backbone_weights: error:')
    assert not (tmp_path / 'b.pth').exists()
