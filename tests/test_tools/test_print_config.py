import os.path as osp

from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = load_tool('misc/print_config')


def test_prints_the_resolved_config_with_overrides(capsys):
    cfg = osp.join(ROOT, 'configs/conr/ablation/conaff_obd_cifar10.py')
    assert tool.main([cfg, '--cfg-options', 'start_fraction=0.7']) == 0
    out = capsys.readouterr().out
    assert 'start_fraction = 0.7' in out
    assert 'relax_end_epoch = None' in out  # the ablation's own key
    assert "type='ConAffNeckHook'" in out  # inherited from the stage


def test_errors_are_one_line(capsys):
    assert tool.main(['configs/nowhere.py']) == 1
    err = capsys.readouterr().err
    assert err.startswith('print_config: error: config file not found')
