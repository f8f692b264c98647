"""Every config loads, builds its model and hooks, and takes training steps
in both stages on random images of its size (CPU)."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.model import revert_sync_batchnorm
from mmpretrain.structures import DataSample

from mmconr.registry import HOOKS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def image_size(cfg):
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'MultiView':
            for t in step['transforms'][0]:
                if t['type'] == 'RandomResizedCrop':
                    return t['scale']
    raise AssertionError('no RandomResizedCrop in the train pipeline')


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_builds_and_trains_both_stages(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmconr'
    for hook in cfg.get('custom_hooks', []):
        HOOKS.build(copy.deepcopy(hook))
    size = image_size(cfg)
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    MessageHub.get_current_instance().update_info('max_iters', 10)
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    batch = 16
    for stage in (False, True):
        model.set_group_stage(stage)
        model.train()
        views = [torch.rand(batch, 3, size, size) * 255 for _ in range(2)]
        samples = [
            DataSample(metainfo=dict(sample_idx=i)).set_gt_label(i % 4)
            for i in range(batch)
        ]
        data = model.data_preprocessor(
            dict(inputs=views, data_samples=samples), True)
        losses = model(**data, mode='loss')
        assert torch.isfinite(losses['loss'])
        optim.zero_grad()
        losses['loss'].backward()
        optim.step()
        if stage:
            assert 'kept_frac' in losses
    model.eval()
    out = model(torch.rand(4, 3, size, size), mode='predict')
    assert out[0].pred_feat.dim() == 1
