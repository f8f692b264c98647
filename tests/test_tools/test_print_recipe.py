"""tools/misc/print_recipe.py against the official formulas.

cly234/DeepClustering-ConNR `models/basic_template.py` (lr per iteration,
batch scaling), Hzzone/ProPos `models/propos/byol.py` (predictor x 10),
`models/connr/byol.py` (every group x 0.1 from epoch 800) and the EMA
`1 - 0.004 (cos(pi n_iter / total) + 1) / 2`, with the 1-based n_iter.
"""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest

from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs/conr/byol_conr_cifar10.py')
IPE = 117  # 60000 images: 15000 per GPU on 4 GPUs // 128


def official_lr(epoch: int, predictor: bool) -> float:
    lr0 = 0.05 * (512 / 256)
    n_iter = epoch * IPE + 1  # the first iteration of the epoch
    e = n_iter / IPE
    if e < 50:
        lr = lr0 * e / 50
    else:
        lr = 0.5 * lr0 * (1 + math.cos((e - 50) * math.pi / 1000))
    if epoch >= 800:  # cur_epoch > pretrain_epochs (1-based)
        return lr * 0.1
    return lr * 10 if predictor else lr


def official_ema(epoch: int) -> float:
    n_iter = epoch * IPE + 1
    return 1 - 0.004 * (math.cos(math.pi * n_iter / (1000 * IPE)) + 1) / 2


def recipe(*args):
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools/misc/print_recipe.py'),
         CONFIG, '--json', *args], capture_output=True, text=True,
        timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope='module')
def recipes():
    return {gpus: recipe('--gpus', str(gpus)) for gpus in (1, 8)}


@pytest.mark.parametrize('gpus,per_gpu', [(1, 512), (8, 64)])
def test_batch_and_bn_groups(recipes, gpus, per_gpu):
    r = recipes[gpus]
    assert (r['global_batch'], r['per_gpu_batch']) == (512, per_gpu)
    assert r['bn_group_size'] == 128
    assert r['iters_per_epoch'] == IPE


@pytest.mark.parametrize('gpus', [1, 8])
def test_lr_and_ema_curves_are_the_official_ones(recipes, gpus):
    r = recipes[gpus]
    names = sorted(r['lr'])
    assert len(names) == 2 and sum('predictor' in n for n in names) == 1
    for name, curve in r['lr'].items():
        epochs = [e for e, _ in curve]
        assert epochs == [0, 25, 50, 400, 799, 800, 850, 999]
        for epoch, lr in curve:
            assert lr == pytest.approx(
                official_lr(epoch, 'predictor' in name), rel=1e-9), \
                (name, epoch)
    for epoch, m in r['ema_momentum']:
        assert m == pytest.approx(official_ema(epoch), rel=1e-12), epoch
    # the official 0.25 x the cosine sum: the weight on the loss's scale
    group = r['stages']['group']
    assert group['group_loss_weight'] * group['loss']['scale_factor'] == 0.25
    assert r['stages']['group']['group_loss_average'] == 'all'
    assert r['boundary']['kmeans_cfg']['n_init'] == 10


def test_the_same_recipe_on_1_and_8_gpus(recipes):
    one, eight = recipes[1], recipes[8]
    for key in ('global_batch', 'bn_group_size', 'iters_per_epoch', 'lr',
                'ema_momentum', 'stages', 'boundary'):
        assert one[key] == eight[key], key


def test_a_gpu_count_that_does_not_divide_the_batch_is_an_error(capsys):
    tool = load_tool('misc/print_recipe')
    assert tool.main([CONFIG, '--gpus', '3']) == 1
    err = capsys.readouterr().err
    assert 'global_batch_size=512 cannot be split over 3 processes' in err
    assert 'Traceback' not in err
