"""A short CPU run of the demo config: BYOL epoch, stage switch, save,
resume, then evaluation by tools/test.py. The tools' ``main()`` run in
this process (tests/tool_loader.py), with the same arguments as on the
command line; each run's log is read from its work dir."""
import csv
import glob
import os.path as osp

import pytest

from mmconr.utils import load_checkpoint_file
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')
SUBSET = 240
OPTIONS = [
    'train_cfg.val_interval=1',
    'default_hooks.checkpoint.interval=1',
    'custom_hooks.0.start_epoch=1',
    'custom_hooks.1.start_epoch=1',
    'custom_hooks.1.end_epoch=3',
    'train_dataloader.batch_size=64',
    'default_hooks.checkpoint.max_keep_ckpts=-1',
] + [
    f'{key}.dataset.indices={SUBSET}' for key in (
        'train_dataloader', 'val_dataloader', 'test_dataloader',
        'feature_dataloader')
]


def run(args, capsys):
    """``tools/<name>.py ARGS`` in this process: its printed output and
    the log its run wrote (the newest log file under its --work-dir)."""
    tool, argv = args[0], args[1:]
    name = osp.splitext(osp.relpath(tool, osp.join(ROOT, 'tools')))[0]
    capsys.readouterr()
    assert load_tool(name).main(argv) == 0
    out = capsys.readouterr()
    work_dir = argv[argv.index('--work-dir') + 1]
    logs = sorted(
        (osp.getmtime(p), p) for p in
        glob.glob(osp.join(work_dir, '*', '*.log')))
    with open(logs[-1][1]) as f:
        return out.out + out.err + f.read()


@pytest.fixture(scope='module')
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('demo')


def test_train_switch_save_resume_and_test(work_dir, capsys):
    train = [osp.join(ROOT, 'tools/train.py'), CFG, '--work-dir',
             str(work_dir), '--cfg-options']
    log = run(train + OPTIONS + ['train_cfg.max_epochs=2'], capsys)
    assert 'group-aware stage starts at epoch 1' in log
    assert 'BoundaryFilterHook: epoch 1: kept fraction 0.800' in log
    assert 'nbr_purity' in log and 'kept_frac' in log

    # weights-only, through mmconr's allow-list
    ckpt = load_checkpoint_file(str(work_dir / 'epoch_2.pth'))
    state = ckpt['boundary_filter']
    assert state['epoch'] == 1 and state['fraction'] == pytest.approx(0.8)
    assert state['pseudo_labels'].shape == (SUBSET, )
    assert state['centroids'].shape == (10, 128)

    log = run(train + OPTIONS + ['train_cfg.max_epochs=3', '--resume'],
              capsys)
    assert 'resumed epoch: 2' in log
    assert 'BoundaryFilterHook: epoch 2: kept fraction 0.900' in log
    assert 'Epoch(train) [3]' in log and 'Epoch(train) [1]' not in log
    assert osp.isfile(work_dir / 'epoch_3.pth')

    out = work_dir / 'assignments.csv'
    log = run([
        osp.join(ROOT, 'tools/test.py'), CFG,
        str(work_dir / 'epoch_3.pth'), '--work-dir',
        str(work_dir / 'test'), '--out',
        str(out), '--cfg-options', f'test_dataloader.dataset.indices={SUBSET}'
    ], capsys)
    line = [ln for ln in log.splitlines() if ln.startswith('digits: ')]
    assert line and 'NMI=' in line[0] and 'ACC=' in line[0] and \
        'ARI=' in line[0], log[-2000:]
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == SUBSET
    assert sorted(int(r['sample_idx']) for r in rows) == list(range(SUBSET))
    assert {int(r['cluster']) for r in rows} <= set(range(10))

    # the saved clustering next to it gives the images the same clusters
    from mmconr.apis import ClusterModel
    from mmconr.registry import DATASETS
    assert f'clustering saved to {work_dir / "clustering.safetensors"}' \
        in log
    model = ClusterModel.load(str(work_dir / 'clustering.safetensors'),
                              device='cpu')
    assert model.saved.checkpoint == str(work_dir / 'epoch_3.pth')
    digits = DATASETS.build(dict(type='Digits', scale=1, pipeline=[],
                                 indices=SUBSET))
    images = [digits.get_data_info(i)['img'] for i in range(SUBSET)]
    by_idx = {int(r['sample_idx']): int(r['cluster']) for r in rows}
    assert model.predict(images).clusters.tolist() == [
        by_idx[i] for i in range(SUBSET)
    ]


def test_byol_warmup_checkpoint_resumes_into_conr_stage(tmp_path, capsys):
    """The official protocol: a checkpoint of the last BYOL warm-up epoch
    (here written by a BYOL-only run, no ConNR hooks) is resumed with
    ``--resume CKPT`` into the ConNR config; the ConNR stage starts at once
    and the lr is scaled by lr_mult on top of the same schedule."""
    train = [osp.join(ROOT, 'tools/train.py'), CFG]
    byol = train + ['--work-dir', str(tmp_path / 'byol'), '--cfg-options'] \
        + OPTIONS + ['custom_hooks=[]']
    run(byol + ['train_cfg.max_epochs=1'], capsys)
    warmup = tmp_path / 'byol' / 'epoch_1.pth'
    # reference: the BYOL run continued for one more epoch
    run(byol + ['train_cfg.max_epochs=2', '--resume'], capsys)
    log = run(train + ['--work-dir', str(tmp_path / 'conr'), '--resume',
                       str(warmup), '--cfg-options'] + OPTIONS +
              ['train_cfg.max_epochs=2', 'custom_hooks.0.lr_mult=0.1'], capsys)
    assert 'resumed epoch: 1' in log
    assert 'group-aware stage starts at epoch 1' in log
    assert 'lr x 0.1' in log and 'BoundaryFilterHook: epoch 1' in log

    def lrs(path):
        ckpt = load_checkpoint_file(str(path))
        return [g['lr'] for g in ckpt['optimizer']['param_groups']]

    conr = lrs(tmp_path / 'conr' / 'epoch_2.pth')
    ref = lrs(tmp_path / 'byol' / 'epoch_2.pth')
    assert conr == pytest.approx([0.1 * lr for lr in ref], rel=1e-6)
    assert load_checkpoint_file(str(tmp_path / 'conr' / 'epoch_2.pth'))[
        'conaff_neck'] == dict(lr_scaled=True)
