"""mmengine's checkpoints are written atomically (mmconr.compat)."""
import os
import signal
import subprocess
import sys

import pytest
import torch

from tests.tiny_runs import ROOT

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
