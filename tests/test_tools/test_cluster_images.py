"""tools/cluster_images.py on a folder with nested folders, mixed formats
and sizes, a corrupt file, a truncated file and a non-image: it trains,
writes one row per readable image, a sheet per cluster and a summary that
names the skipped files; then the API embeds with the checkpoint only."""
import csv
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from tests.fake_data import write_image_folder

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# a narrow network on 32x32 inputs keeps the CPU run to seconds
TINY = [
    'model.backbone.base_channels=8', 'model.backbone.stem_channels=8',
    'model.neck.in_channels=64', 'model.neck.hid_channels=64',
    'model.head.predictor.hid_channels=64'
]
TINY_OPTIONS = dict(o.split('=') for o in TINY)
TINY_OPTIONS = {k: int(v) for k, v in TINY_OPTIONS.items()}


def reference_ratio(z, centroids, label):
    """Eq. 9-11 for one sample, written out."""
    d = [float(np.linalg.norm(z - c)) for c in centroids]
    d_in = d[label]
    d_near = min(v for k, v in enumerate(d) if k != label)
    return 1 - (d_near - d_in) / max(d_in, d_near)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cluster_images')
    folder, good, bad = write_image_folder(str(tmp / 'photos'))
    out = tmp / 'out'
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools/cluster_images.py'), folder,
        '--num-clusters', '3', '--out',
        str(out), '--epochs', '2', '--img-size', '32', '--batch-size', '16',
        '--workers', '0', '--cfg-options'
    ] + TINY
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return folder, good, bad, out, log


def test_cli_trains_and_writes_rows_sheets_summary(trained):
    folder, good, bad, out, log = trained
    # it trained through the stage switch on the folder
    assert 'group-aware stage starts at epoch 1' in log
    assert osp.isfile(out / 'train' / 'epoch_2.pth')
    with open(out / 'assignments.csv') as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ['path', 'cluster', 'distance', 'boundary_ratio']
    assert [r['path'] for r in rows] == [osp.relpath(p, folder) for p in good]
    clusters = [int(r['cluster']) for r in rows]
    assert set(clusters) <= {0, 1, 2}
    for r in rows:
        assert float(r['distance']) >= 0 and \
            0 <= float(r['boundary_ratio']) <= 2
    sheets = sorted(os.listdir(out / 'clusters'))
    assert sheets == [f'cluster_{c:02d}.png' for c in sorted(set(clusters))]
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['num_samples'] == len(good)
    assert summary['cluster_sizes'] == {
        str(c): clusters.count(c) for c in range(3)
    }
    assert {s['path'] for s in summary['skipped']} == set(bad)
    # the console names every skipped file, the corrupt and the non-image
    for path in bad:
        assert path in log


def test_api_with_checkpoint_only_embeds_and_agrees(trained, tmp_path):
    from mmconr.apis import cluster_folder
    folder, good, _, out, _ = trained
    checkpoint = str(out / 'train' / 'epoch_2.pth')
    result = cluster_folder(folder, 3, str(tmp_path / 'again'),
                            checkpoint=checkpoint, img_size=32,
                            num_workers=0, device='cpu',
                            labels_from='subfolder',
                            cfg_options=TINY_OPTIONS)
    assert not osp.exists(tmp_path / 'again' / 'train')  # no training
    with open(out / 'assignments.csv') as f:
        cli_rows = list(csv.DictReader(f))
    # same checkpoint, same images: same clusters and distances
    assert result.clustering.labels.tolist() == [
        int(r['cluster']) for r in cli_rows
    ]
    np.testing.assert_allclose(result.clustering.distances.numpy(),
                               [float(r['distance']) for r in cli_rows],
                               atol=1e-5)
    # distances and boundary ratios against Eq. 9-11 on the features
    z = result.feats.numpy()
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    c = result.clustering.centroids.numpy()
    labels = result.clustering.labels.numpy()
    # k-means' final assignment: every image is in its nearest cluster
    dists = np.linalg.norm(z[:, None] - c[None], axis=2)
    np.testing.assert_array_equal(labels, dists.argmin(axis=1))
    np.testing.assert_allclose(result.clustering.distances.numpy(),
                               dists[np.arange(len(z)), labels], atol=1e-5)
    np.testing.assert_allclose(
        result.clustering.boundary_ratios.numpy(),
        [reference_ratio(z[i], c, labels[i]) for i in range(len(z))],
        atol=1e-5)
    # folder labels: a label column, and the scores in the summary
    with open(tmp_path / 'again' / 'assignments.csv') as f:
        rows = list(csv.DictReader(f))
    assert [int(r['label']) for r in rows] == [
        0 if '/cats/' in p else 1 for p in good
    ]
    assert set(result.summary['label_agreement']) == {'NMI', 'ACC', 'ARI'}


def test_api_rejects_bad_input_before_training(tmp_path):
    from mmconr.apis import cluster_folder
    folder, good, _ = write_image_folder(str(tmp_path / 'few'),
                                         per_format=1, bad_files=False)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        cluster_folder(str(tmp_path / 'nowhere'), 3, str(tmp_path / 'o'))
    with pytest.raises(ValueError, match='num_clusters=9 is larger than '
                       'the 5 readable images'):
        cluster_folder(folder, 9, str(tmp_path / 'o'), num_workers=0)
    with pytest.raises(ValueError, match='only 5 readable images; ConNR '
                       'needs a batch of at least 10'):
        cluster_folder(folder, 2, str(tmp_path / 'o'), num_workers=0)
    assert not osp.exists(tmp_path / 'o' / 'train')


def test_a_name_that_is_not_utf8_is_written_losslessly(trained, tmp_path):
    """os.listdir gives such a name with surrogate escapes; the CSV holds
    its original bytes and the summary lines stay printable."""
    import shutil

    from mmconr.apis import cluster_folder, format_summary
    folder, good, _, out, _ = trained
    photos = tmp_path / 'photos'
    shutil.copytree(folder, photos)
    first = sorted(p for p in photos.rglob('*.png'))[0]
    raw = os.fsencode(str(first.parent)) + b'/caf\xe9.png'  # Latin-1 name
    os.rename(os.fsencode(str(first)), raw)
    (photos / 'not\xff_an_image.txt'.encode(
        'latin-1').decode('utf-8', 'surrogateescape')).write_text('x')
    result = cluster_folder(str(photos), 3, str(tmp_path / 'res'),
                            checkpoint=str(out / 'train' / 'epoch_2.pth'),
                            img_size=32, num_workers=0, device='cpu',
                            cfg_options=TINY_OPTIONS)
    name = os.fsdecode(raw)
    rel = osp.relpath(name, str(photos))
    assert rel in result.paths
    data = (tmp_path / 'res' / 'assignments.csv').read_bytes()
    assert os.fsencode(rel) in data  # the original bytes
    with open(tmp_path / 'res' / 'assignments.csv', newline='',
              encoding='utf-8', errors='surrogateescape') as f:
        assert rel in [row['path'] for row in csv.DictReader(f)]
    lines = format_summary(result.summary)
    '\n'.join(lines).encode('utf-8')  # printable on a UTF-8 terminal
    assert any('not\\xff_an_image.txt' in line for line in lines)


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    tool = osp.join(ROOT, 'tools/cluster_images.py')
    proc = subprocess.run(
        [sys.executable, tool, str(tmp_path / 'nowhere'), '-k', '3',
         '--out', str(tmp_path / 'out')],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'cluster_images: error: image folder not found')
