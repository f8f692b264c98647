"""A saved clustering applied to images: assigning the folder it was made
from reproduces its assignments.csv byte for byte; paths, PIL images and
arrays give the same clusters; files that do not belong together are
refused; the HTML report has the structure a person browses."""
import csv
import os
import os.path as osp
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from PIL import Image

from mmconr.apis import ClusterModel, assign_folder, cluster_folder
from mmconr.clustering.saved import load_clustering, save_clustering
from mmconr.evaluation import matched_confusion
from tests.fake_data import TINY_FOLDER_OPTIONS, write_image_folder


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """cluster_folder with the weights of a freshly initialised tiny model
    (no training: the features of random weights are what they are)."""
    from mmconr.apis import folder_config, init_model
    tmp = tmp_path_factory.mktemp('cluster_model')
    folder, good, bad = write_image_folder(str(tmp / 'photos'))
    cfg = folder_config(folder, 3, img_size=32, num_workers=0,
                        cfg_options=TINY_FOLDER_OPTIONS)
    torch.manual_seed(0)
    model = init_model(cfg, device='cpu')
    ckpt = str(tmp / 'init.pth')
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    out = tmp / 'out'
    result = cluster_folder(folder, 3, str(out), checkpoint=ckpt,
                            img_size=32, num_workers=0, device='cpu',
                            labels_from='subfolder',
                            cfg_options=TINY_FOLDER_OPTIONS)
    return folder, good, bad, ckpt, out, result


def read_rows(path):
    with open(path, newline='', encoding='utf-8',
              errors='surrogateescape') as f:
        return list(csv.DictReader(f))


def test_assigning_the_training_folder_reproduces_its_csv(run, tmp_path):
    folder, good, _, ckpt, out, result = run
    model = ClusterModel.load(str(out / 'clustering.safetensors'),
                              device='cpu')
    again = assign_folder(model, folder, str(tmp_path / 'again'),
                          num_workers=0, labels_from='subfolder')
    assert (tmp_path / 'again' / 'assignments.csv').read_bytes() == \
        (out / 'assignments.csv').read_bytes()
    assert again.clustering.labels.tolist() == \
        result.clustering.labels.tolist()
    # with a threshold: the unassigned are -1, apart on the page and out of
    # its confusion table
    cut = float((1 - result.clustering.boundary_ratios).median())
    part = assign_folder(model, folder, str(tmp_path / 'part'),
                         min_confidence=cut, num_workers=0,
                         labels_from='subfolder')
    unassigned = int((part.clustering.labels < 0).sum())
    assert 0 < unassigned < len(good)
    assert part.summary['unassigned'] == unassigned
    assert sum(part.summary['cluster_sizes'].values()) == \
        len(good) - unassigned
    html = (tmp_path / 'part' / 'report' / 'index.html').read_text()
    assert f'Unassigned ({unassigned})' in html
    table = html[html.index('<table class="confusion">'):]
    table = table[:table.index('</table>')]
    assert '<th>-1</th>' not in table
    assert sum(int(n) for n in re.findall(r'<td[^>]*>(\d+)</td>', table)) \
        == len(good) - unassigned
    assert (tmp_path / 'part' / 'clusters' / 'unassigned.png').is_file()
    # the saved centroids are the clustering's, K and the source recorded
    saved = load_clustering(str(out / 'clustering.safetensors'))
    assert torch.equal(saved.centroids, result.clustering.centroids)
    assert saved.checkpoint == osp.abspath(ckpt)
    assert saved.config['feature_dataloader']['dataset']['data_root'] == \
        folder


def test_paths_pil_images_and_arrays_agree(run):
    folder, good, _, _, out, result = run
    model = ClusterModel.load(str(out / 'clustering.safetensors'),
                              device='cpu')
    by_path = model.predict(good)
    assert by_path.clusters.tolist() == result.clustering.labels.tolist()
    np.testing.assert_allclose(by_path.distances,
                               result.clustering.distances, atol=1e-5)
    # confidence is 1 - boundary ratio
    np.testing.assert_allclose(by_path.confidences,
                               1 - result.clustering.boundary_ratios,
                               atol=1e-5)
    pil = [Image.open(p) for p in good]
    arrays = [np.asarray(Image.open(p).convert('RGB')) for p in good]
    # grey files as (H, W) arrays, as PIL gives them
    grey = [np.asarray(Image.open(p).convert('RGB')) if '/grey/' not in p
            else np.asarray(Image.open(p)) for p in good]
    assert any(a.ndim == 2 for a in grey)
    for images in (pil, arrays, grey):
        pred = model.predict(images, batch_size=7)
        assert pred.clusters.tolist() == by_path.clusters.tolist()
        np.testing.assert_allclose(pred.distances, by_path.distances,
                                   atol=1e-4)
    # a threshold sends the uncertain ones to -1, and only those
    cut = float(by_path.confidences.median())
    pred = model.predict(good, min_confidence=cut)
    low = by_path.confidences < cut
    assert (pred.clusters[low] == -1).all()
    assert pred.clusters[~low].tolist() == by_path.clusters[~low].tolist()
    with pytest.raises(ValueError, match=r'min_confidence must lie in'):
        model.predict(good, min_confidence=1.5)
    with pytest.raises(ValueError, match='expected a path, a PIL image'):
        model.predict([np.zeros((4, 4, 3), np.float32)])


def test_files_that_do_not_belong_together_are_refused(run, tmp_path):
    folder, _, _, ckpt, out, _ = run
    clustering = str(out / 'clustering.safetensors')
    # another checkpoint of the same architecture
    other = tmp_path / 'other.pth'
    state = torch.load(ckpt, weights_only=True)
    first = next(iter(state['state_dict']))
    state['state_dict'][first] = state['state_dict'][first] + 1
    torch.save(state, str(other))
    with pytest.raises(ValueError, match=f'checkpoint {other} does not '
                       'belong to clustering'):
        ClusterModel.load(clustering, checkpoint=str(other), device='cpu')
    # a config whose model differs
    from mmconr.apis import folder_config
    options = dict(TINY_FOLDER_OPTIONS, **{'model.neck.out_channels': 128})
    cfg = folder_config(folder, 3, img_size=32, cfg_options=options)
    with pytest.raises(ValueError, match='config the config given does not '
                       'belong to clustering .*its model differs'):
        ClusterModel.load(clustering, config=cfg, device='cpu')
    cfg = folder_config(folder, 3, img_size=48,
                        cfg_options=TINY_FOLDER_OPTIONS)
    with pytest.raises(ValueError, match='its pipeline differs'):
        ClusterModel.load(clustering, config=cfg, device='cpu')
    # the checkpoint moved: its recorded path fails, its new path works
    moved = tmp_path / 'moved' / 'clustering.safetensors'
    moved.parent.mkdir()
    saved = load_clustering(clustering)
    save_clustering(str(moved), saved.centroids, saved.config,
                    str(tmp_path / 'gone.pth'),
                    checkpoint_sha256=saved.checkpoint_sha256)
    with pytest.raises(FileNotFoundError, match='is not there; give its new '
                       'path'):
        ClusterModel.load(str(moved), device='cpu')
    ClusterModel.load(str(moved), checkpoint=ckpt, device='cpu')


@pytest.mark.parametrize('key, value, message', [
    ('model.type', 'os.system', "model.type='os.system' is not a module"),
    ('model.type', 'subprocess.Popen', "model.type='subprocess.Popen' is"),
    ('model.type', 'antigravity', "model.type='antigravity' is not a"),
    # registered, but their constructors load code from other libraries
    ('model.backbone.type', 'TIMMBackbone', "type='TIMMBackbone' is not"),
    ('model.type', 'HuggingFaceClassifier', "'HuggingFaceClassifier' is"),
    # MMEngine imports <scope>.registry
    ('model._scope_', 'tabnanny', "model._scope_='tabnanny' is not a "
     'registry scope'),
    ('default_scope', 'tabnanny', "default_scope='tabnanny' is not a"),
])
def test_a_saved_config_may_only_name_safe_modules(run, tmp_path, key,
                                                   value, message):
    import copy
    import sys
    _, _, _, ckpt, out, _ = run
    saved = load_clustering(str(out / 'clustering.safetensors'))
    config = copy.deepcopy(saved.config)
    *parents, last = key.split('.')
    node = config
    for part in parents:
        node = node[part]
    node[last] = value
    path = str(tmp_path / 'crafted.safetensors')
    save_clustering(path, saved.centroids, config, ckpt)
    sys.modules.pop('tabnanny', None)
    with pytest.raises(ValueError, match=message):
        ClusterModel.load(path, device='cpu')
    assert 'tabnanny' not in sys.modules and 'antigravity' not in sys.modules


class Page(HTMLParser):
    """Sections, images, links and list items of the report."""

    def __init__(self):
        super().__init__()
        self.sections, self.imgs, self.links, self.items = [], [], [], []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'section':
            self.sections.append(dict(attrs, imgs=[]))
        if tag == 'img':
            self.imgs.append(attrs['src'])
            if self.sections:
                self.sections[-1]['imgs'].append(attrs)
        if tag == 'a':
            self.links.append(attrs['href'])
        if tag == 'li':
            self.text = []

    def handle_endtag(self, tag):
        if tag == 'li':
            self.items.append(''.join(self.text))

    def handle_data(self, data):
        self.text.append(data)


def test_report_page_structure(run):
    folder, good, bad, _, out, result = run
    page_file = out / 'report' / 'index.html'
    page = Page()
    page.feed(page_file.read_text(encoding='utf-8'))
    sizes = result.clustering.sizes()
    clusters = [s for s in page.sections if s.get('class') == 'cluster']
    assert [int(s['data-size']) for s in clusters] == [n for n in sizes if n]
    for section, cluster in zip(clusters, [c for c, n in enumerate(sizes)
                                           if n]):
        assert section['id'] == f'cluster-{cluster}'
        shown = min(8, sizes[cluster])
        assert len(section['imgs']) == 2 * shown  # central + boundary
        central = result.clustering.central_order(cluster)[:shown].tolist()
        names = [osp.relpath(good[i], folder) for i in central]
        assert [img['alt'] for img in section['imgs'][:shown]] == names
    # self-contained: images inline, links relative and present
    assert page.imgs and all(src.startswith('data:image/')
                             for src in page.imgs)
    for href in page.links:
        if href.startswith('#'):
            continue
        assert not href.startswith(('http:', 'https:', '/')), href
        assert osp.isfile(osp.join(out, 'report', href)), href
    # the skipped files, named
    assert sorted(item.split(': ')[0] for item in page.items) == sorted(bad)
    # the confusion matrix of the labelled folder: the counts of the data
    labels = [0 if '/cats/' in p else 1 for p in good]
    matrix, _, order, matched = matched_confusion(labels,
                                                  result.clustering.labels)
    html = page_file.read_text(encoding='utf-8')
    table = html[html.index('<table class="confusion">'):]
    table = table[:table.index('</table>')]
    cells = [int(n) for n in re.findall(r'<td[^>]*>(\d+)</td>', table)]
    assert cells == matrix.ravel().tolist()
    assert re.findall(r'<th>(\d+)</th>', table) == [str(c) for c in order]
    # the shaded cells are the matched pairs: one per class (K=3 > 2)
    shaded = [i for i, cell in enumerate(
        re.findall(r'<td[^>]*>', table)) if 'match' in cell]
    assert shaded == sorted(matched[c] * matrix.shape[1] + c
                            for c in range(matrix.shape[1])
                            if matched[c] >= 0)
    assert len(shaded) == 2
    for c in order:
        ref = sum(1 for y, k in zip(labels, result.clustering.labels.tolist())
                  if k == c)
        assert matrix[:, list(order).index(c)].sum() == ref


def test_auto_k_with_a_checkpoint_writes_the_selection(run, tmp_path):
    folder, good, _, ckpt, _, _ = run
    # a range the folder cannot hold is refused before any training
    with pytest.raises(ValueError, match='20 samples are too few to choose '
                       'K in 50..60'):
        cluster_folder(folder, 'auto', str(tmp_path / 'big'), img_size=32,
                       num_workers=0, k_range=(50, 60),
                       cfg_options=TINY_FOLDER_OPTIONS)
    assert not (tmp_path / 'big' / 'train').exists()
    result = cluster_folder(folder, 'auto', str(tmp_path / 'auto'),
                            checkpoint=ckpt, img_size=32, num_workers=0,
                            device='cpu', k_range=(2, 5),
                            labels_from='subfolder',
                            cfg_options=TINY_FOLDER_OPTIONS)
    chosen = result.summary['k_selection']['chosen']
    assert 2 <= chosen <= 5 and result.clustering.num_clusters == chosen
    rows = read_rows(tmp_path / 'auto' / 'k_selection.csv')
    assert [int(r['k']) for r in rows] == [2, 3, 4, 5]
    assert (tmp_path / 'auto' / 'k_selection.png').read_bytes()[:4] == \
        b'\x89PNG'
    assert 'id="k-selection"' in (tmp_path / 'auto' / 'report' /
                                  'index.html').read_text()
    assert load_clustering(str(tmp_path / 'auto' /
                               'clustering.safetensors')).num_clusters == \
        chosen


def test_a_name_that_is_not_utf8_round_trips_through_assign(run, tmp_path):
    folder, good, _, ckpt, out, _ = run
    photos = tmp_path / 'photos'
    shutil.copytree(folder, photos)
    first = sorted(photos.rglob('*.png'))[0]
    raw = os.fsencode(str(first.parent)) + b'/caf\xe9.png'
    os.rename(os.fsencode(str(first)), raw)
    model = ClusterModel.load(str(out / 'clustering.safetensors'),
                              device='cpu')
    result = assign_folder(model, str(photos), str(tmp_path / 'res'),
                           num_workers=0)
    rel = osp.relpath(os.fsdecode(raw), str(photos))
    rows = read_rows(tmp_path / 'res' / 'assignments.csv')
    assert rel in [r['path'] for r in rows]
    assert os.fsencode(rel) in (tmp_path / 'res' /
                                'assignments.csv').read_bytes()
    assert result.paths == [r['path'] for r in rows]
    assert 'caf\\xe9.png' in (tmp_path / 'res' / 'report' /
                              'index.html').read_text(encoding='utf-8')
