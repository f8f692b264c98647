"""The analysis tools on digits: each writes its PNG; the numbers behind
them are checked against references written here. The curves come from a
two-epoch run (BYOL epoch, then ConNR)."""
import copy
import csv
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from scipy import stats

from tests.test_models.test_neighborhoods.reference import reference_conaff
from tests.tool_loader import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')
SUBSET = 192
SUBSET_OPTION = [f'feature_dataloader.dataset.indices={SUBSET}']


def tool(name):
    return tool_in('analysis_tools', name)


def tool_in(folder, name):
    return load_tool(f'{folder}/{name}')


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('analysis')
    cfg = Config.fromfile(CFG)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'feature_dataloader'):
        cfg[key].dataset.indices = SUBSET
    cfg.train_cfg.max_epochs = 2
    cfg.train_cfg.val_interval = 1
    for hook in cfg.custom_hooks:
        hook['start_epoch'] = 1
        if 'end_epoch' in hook:
            hook['end_epoch'] = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    return work_dir, str(work_dir / 'epoch_2.pth')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Weights of a freshly initialised demo model: random ResNet features
    of digits are far from random (the two-epoch run above has collapsed
    features, whose neighbour ranks are float noise)."""
    from mmconr.apis import init_model
    torch.manual_seed(0)
    model = init_model(CFG, device='cpu')
    path = tmp_path_factory.mktemp('random_init') / 'init.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), str(path))
    return str(path)


@pytest.fixture(scope='module')
def features(checkpoint):
    from mmconr.apis import embed_dataset
    model, dataset, feats, labels = embed_dataset(
        CFG, checkpoint, 'cpu', 0,
        {'feature_dataloader.dataset.indices': SUBSET})
    return model, dataset, feats, labels


def reference_purity(feats, labels, batches, ks, k1, k2):
    """Purity by brute force: cosine ranks with numpy, ConAff ranks from the
    loop reference of docs/method.md §1."""
    out = dict(euclidean=[], conaff=[])
    for batch in batches:
        z = feats[batch].double()
        y = labels[batch].numpy()
        zn = (z / z.norm(dim=1, keepdim=True)).numpy()
        dists = ((zn[:, None] - zn[None]) ** 2).sum(-1)
        _, ctx = reference_conaff(feats[batch], max(ks), k1, k2)
        for name, score in (('euclidean', -dists), ('conaff', ctx)):
            row = []
            for k in ks:
                same = []
                for i in range(len(batch)):
                    others = [j for j in np.argsort(-score[i], kind='stable')
                              if j != i][:k]
                    same += [y[j] == y[i] for j in others]
                row.append(np.mean(same))
            out[name].append(row)
    return {k: np.array(v) for k, v in out.items()}


def test_neighbor_purity_plot_and_numbers(checkpoint, features, tmp_path):
    ckpt = checkpoint
    _, _, feats, labels = features
    out = tmp_path / 'purity.png'
    numbers = tool('neighbor_purity').main([
        CFG, ckpt, '--out', str(out), '--ks', '1', '5', '10', '20',
        '--num-batches', '3', '--batch-sizes', '64', '32', '--device', 'cpu',
        '--workers', '0', '--cfg-options'
    ] + SUBSET_OPTION)
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert json.loads((tmp_path / 'purity.json').read_text()) == numbers
    assert (numbers['k1'], numbers['k2']) == (5, 2)  # the model's
    assert [r['batch_size'] for r in numbers['runs']] == [64, 32]
    ks = [1, 5, 10, 20]
    for run in numbers['runs']:
        size = run['batch_size']
        # the batches a shuffled sampler with drop_last draws, seed 0
        perm = np.random.default_rng(0).permutation(np.arange(SUBSET))
        batches = [perm[i * size:(i + 1) * size] for i in range(3)]
        ref = reference_purity(feats, labels, batches, ks, 5, 2)
        # the oracle: every other member of the class, up to K
        for k, bound in zip(ks, run['upper_bound']['mean']):
            expected = np.mean([
                min(k, int((labels[b] == labels[i]).sum()) - 1) / k
                for b in batches for i in b
            ])
            assert bound == pytest.approx(100 * expected, abs=0.006)
        # float32 (tool) vs float64 (reference), and ties of contextual
        # similarity broken by index in the library (its own tests check
        # exact neighbours): at most 3 of the 3 x B x K neighbours of this
        # untrained checkpoint's near-tied features may differ
        one = 100 / (3 * size * np.array(ks))
        for name in ('euclidean', 'conaff'):
            assert np.all(np.abs(np.array(run[name]['mean']) -
                                 100 * ref[name].mean(0)) <= 3 * one +
                          0.006), name
        gain = np.array(run['conaff_minus_euclidean']['mean'])
        assert np.allclose(gain, np.array(run['conaff']['mean']) -
                           np.array(run['euclidean']['mean']), atol=0.011)


def test_purity_interval_is_the_t_interval_over_batches():
    values = np.array([[90.0, 50.0], [80.0, 52.0], [85.0, 57.0],
                       [95.0, 49.0]])
    got = tool('neighbor_purity').interval(values)
    for j in range(2):
        column = values[:, j]
        mean = sum(column) / 4
        sd = (sum((v - mean)**2 for v in column) / 3)**0.5
        half = stats.t.ppf(0.975, 3) * sd / 2
        assert got['mean'][j] == pytest.approx(mean, abs=0.005)
        assert got['low'][j] == pytest.approx(mean - half, abs=0.005)
        assert got['high'][j] == pytest.approx(mean + half, abs=0.005)


def test_visualize_neighbors(checkpoint, features, tmp_path):
    ckpt = checkpoint
    _, _, feats, _ = features
    out = tmp_path / 'neighbors.png'
    found = tool('visualize_neighbors').main([
        CFG, ckpt, '--out', str(out), '--queries', '3', '50', '--device',
        'cpu', '--workers', '0', '--cfg-options'
    ] + SUBSET_OPTION)
    assert out.read_bytes()[:4] == b'\x89PNG'
    assert [f['query'] for f in found] == [3, 50]
    for item in found:
        batch = item['batch']
        assert len(batch) == 64 and batch[0] == item['query']
        assert len(set(batch.tolist())) == 64
        z = torch.nn.functional.normalize(feats[batch].double(), dim=1)
        order = [j for j in torch.argsort(-(z @ z[0]), stable=True).tolist()
                 if j != 0][:10]
        assert item['euclidean'].tolist() == batch[order].tolist()
        _, ctx = reference_conaff(feats[batch], 10, 5, 2)  # the model's
        order = [j for j in np.argsort(-ctx[0], kind='stable') if j != 0]
        assert item['conaff'].tolist() == batch[order[:10]].tolist()


def test_visualize_tsne(checkpoint, tmp_path, capsys):
    ckpt = checkpoint
    for color_by in ('gt', 'cluster'):
        out = tmp_path / f'tsne_{color_by}.png'
        embedding = tool('visualize_tsne').main([
            CFG, ckpt, '--out', str(out), '--color-by', color_by,
            '--max-samples', '150', '--device', 'cpu', '--workers', '0',
            '--cfg-options'
        ] + SUBSET_OPTION)
        assert out.read_bytes()[:4] == b'\x89PNG'
        assert embedding.shape == (150, 2)
    # fr0 = 0.8 of the config's BoundaryFilterHook over the whole set
    boundary = SUBSET - math.ceil(0.8 * SUBSET)
    assert f'{boundary} of {SUBSET} samples are boundary samples' in \
        capsys.readouterr().out


def test_plot_curves(demo_run, tmp_path):
    work_dir, _ = demo_run
    out = tmp_path / 'curves.png'
    panels = tool('plot_curves').main([str(work_dir), '--out', str(out)])
    assert out.read_bytes()[:4] == b'\x89PNG'
    records = []
    for path in work_dir.glob('*/vis_data/scalars.json'):
        records += [json.loads(line) for line in path.read_text().split('\n')
                    if line.strip()]
    train = [r for r in records if 'iter' in r]
    for epoch in (1, 2):
        losses = [r['loss'] for r in train if r['epoch'] == epoch]
        assert len(losses) == 3  # 192 / 64 iterations, logged every one
        x, y, _ = panels['training loss (mean per epoch)']['loss']
        assert y[x.index(epoch)] == pytest.approx(np.mean(losses))
    nmi = [r['clustering/NMI'] for r in records if 'clustering/NMI' in r]
    x, y, _ = panels['clustering scores (%)']['NMI (validation)']
    assert x == [1, 2] and y == pytest.approx(nmi)
    # the fraction BoundaryFilterHook set before the 2nd epoch
    x, y, _ = panels['kept fraction of anchors']['scheduled fr(t)']
    assert x == [2] and y == [pytest.approx(0.8)]
    assert 'neighbourhood purity (%)' in panels


def test_cluster_sheets(checkpoint, tmp_path):
    ckpt = checkpoint
    summary = tool('cluster_sheets').main([
        CFG, ckpt, '--out-dir', str(tmp_path), '--device', 'cpu',
        '--workers', '0', '--cfg-options'
    ] + SUBSET_OPTION)
    assert summary['num_samples'] == SUBSET
    assert sum(summary['cluster_sizes'].values()) == SUBSET
    for sheet in summary['contact_sheets'].values():
        assert (tmp_path / sheet).read_bytes()[:4] == b'\x89PNG'
    assert set(summary['label_agreement']) == {'NMI', 'ACC', 'ARI'}
    rows = (tmp_path / 'assignments.csv').read_text().splitlines()
    assert rows[0] == 'sample_idx,cluster,distance,boundary_ratio,label'
    assert len(rows) == SUBSET + 1


def test_confusion_matrix_counts_and_files(checkpoint, tmp_path):
    from mmconr.evaluation import cluster_metrics
    module = tool('confusion_matrix')
    result = module.confusion(module.parse_args([
        CFG, checkpoint, '--out-dir', str(tmp_path), '--device', 'cpu',
        '--workers', '0', '--cfg-options',
        f'test_dataloader.dataset.indices={SUBSET}'
    ]))
    labels = result['labels'].tolist()
    clusters = result['assignments'].tolist()
    assert len(labels) == SUBSET
    with open(tmp_path / 'confusion.csv') as f:
        rows = list(csv.reader(f))
    order = [int(h.split()[-1]) for h in rows[0][1:]]
    assert sorted(order) == sorted(set(clusters))
    for r, row in enumerate(rows[1:]):
        cls = result['classes'][r]
        for c, count in zip(order, row[1:]):
            assert int(count) == sum(1 for y, k in zip(labels, clusters)
                                     if y == cls and k == c)
    # the matched diagonal is ACC, the metric of tools/test.py
    assert result['acc'] == pytest.approx(
        cluster_metrics(labels, clusters)['acc'])
    assert (tmp_path / 'confusion.png').read_bytes()[:4] == b'\x89PNG'


def test_browse_dataset_views(tmp_path):
    from PIL import Image

    from mmconr.registry import DATASETS
    from mmconr.visualization import dataset_image
    module = tool_in('visualization', 'browse_dataset')
    args = module.parse_args([CFG, '--num', '3', '--out',
                              str(tmp_path / 'b.png'), '--size', '32'])
    first = module.browse(args)
    again = module.browse(args)
    assert len(first['rows']) == 3 and all(len(r) == 4 for r in first['rows'])
    digits = DATASETS.build(dict(type='Digits', scale=1, pipeline=[]))
    for idx, row in zip(first['indices'], first['rows']):
        assert np.array_equal(row[0], dataset_image(digits, idx))
        assert all(view.shape == (8, 8, 3) for view in row[1:])
        assert not np.array_equal(row[1], row[2])  # two random views
    # the seed fixes the sample and the augmentations
    assert all(np.array_equal(a, b) for ra, rb in zip(
        first['rows'], again['rows']) for a, b in zip(ra, rb))
    with Image.open(tmp_path / 'b.png') as img:
        assert img.size[0] >= 4 * 32 and img.size[1] >= 3 * 32
