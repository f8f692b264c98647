import json
import os.path as osp

from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
tool = load_tool('misc/resolve_configs')


def test_dump_and_compare_name_what_changed(tmp_path, capsys):
    before = tmp_path / 'before.json'
    assert tool.main(['dump', osp.join(ROOT, 'configs', 'demo'), '--out',
                      str(before)]) == 0
    data = json.loads(before.read_text())
    assert 'ConNR(' in data['byol_conr_digits.py']['model']
    assert tool.main(['compare', str(before), str(before)]) == 0
    assert '0 differ' in capsys.readouterr().out
    head = data['byol_conr_digits.py']['config']['model']['head']
    head['loss']['type'] = 'OtherLoss'
    after = tmp_path / 'after.json'
    after.write_text(json.dumps(data))
    assert tool.main(['compare', str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert ("byol_conr_digits.py: model.head.loss.type: "
            "'GroupAwareCosineLoss' -> 'OtherLoss'") in out
    assert '1 differ' in out
