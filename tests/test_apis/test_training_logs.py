"""Reading mmengine's scalars.json of a run that was resumed."""
import json

import pytest

from mmconr.visualization import load_scalars, training_panels


def write_run(folder, records):
    vis = folder / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(
        json.dumps(r) + '\n' for r in records))


def test_resumed_run_continues_the_curves(tmp_path):
    # first run: epochs 1-2 (2 iterations each), then a crash in epoch 3
    write_run(tmp_path / '20240101_000000', [
        dict(loss=4.0, lr=0.1, epoch=1, iter=1, step=1),
        dict(loss=2.0, lr=0.1, epoch=1, iter=2, step=2),
        {'clustering/NMI': 10.0, 'step': 1},
        {'boundary/kept_fraction': 0.8, 'step': 1},
        dict(loss=1.0, kept_frac=0.75, nbr_purity=0.5, lr=0.1, epoch=2,
             iter=3, step=3),
        dict(loss=3.0, kept_frac=0.85, nbr_purity=0.7, lr=0.1, epoch=2,
             iter=4, step=4),
        {'clustering/NMI': 20.0, 'step': 2},
        dict(loss=9.0, lr=0.1, epoch=3, iter=5, step=5),
    ])
    # resumed at epoch 2: iteration 5 again, with another value
    write_run(tmp_path / '20240102_000000', [
        {'boundary/kept_fraction': 0.9, 'step': 2},
        dict(loss=0.5, lr=0.1, epoch=3, iter=5, step=5),
        dict(loss=1.5, lr=0.1, epoch=3, iter=6, step=6),
        {'clustering/NMI': 30.0, 'step': 3},
    ])
    scalars = load_scalars(str(tmp_path))
    assert scalars['train']['loss'] == {1: 4.0, 2: 2.0, 3: 1.0, 4: 3.0,
                                        5: 0.5, 6: 1.5}
    panels = training_panels(scalars)
    x, y, label = panels['training loss (mean per epoch)']['loss']
    assert label == 'epoch' and x == [1, 2, 3] and y == [3.0, 2.0, 1.0]
    x, y, _ = panels['clustering scores (%)']['NMI (validation)']
    assert (x, y) == ([1, 2, 3], [10.0, 20.0, 30.0])
    # BoundaryFilterHook logs before the 0-based epoch it applies to
    x, y, _ = panels['kept fraction of anchors']['scheduled fr(t)']
    assert (x, y) == ([2, 3], [0.8, 0.9])
    x, y, _ = panels['kept fraction of anchors']['kept in batches (mean)']
    assert x == [2] and y == [pytest.approx(0.8)]
    x, y, _ = panels['neighbourhood purity (%)']['ConAff']
    assert x == [2] and y == [pytest.approx(60.0)]


def test_missing_logs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='scalars.json under'):
        load_scalars(str(tmp_path))
    write_run(tmp_path / 'run', [{'loss': 1.0}])
    (tmp_path / 'run' / 'vis_data' / 'scalars.json').write_text('{oops\n')
    with pytest.raises(ValueError, match='scalars.json line 1: not JSON'):
        load_scalars(str(tmp_path))
