"""clustering.safetensors: what is saved comes back, and anything that is
not a file save_clustering wrote is refused before it is used."""
import json
import os
import pickle

import pytest
import torch
from safetensors.torch import save_file

from mmconr.clustering.saved import FORMAT, load_clustering, save_clustering
from mmconr.utils.io import file_sha256

CONFIG = dict(model=dict(type='ConNR', neck=dict(out_channels=4)),
              test_dataloader=dict(dataset=dict(pipeline=[])))


@pytest.fixture
def saved(tmp_path):
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'weights')
    centroids = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    path = save_clustering(str(tmp_path / 'clustering.safetensors'),
                           centroids, CONFIG, str(ckpt),
                           kmeans_cfg=dict(n_init=3, seed=0))
    return path, centroids, str(ckpt)


def test_round_trip(saved):
    path, centroids, ckpt = saved
    loaded = load_clustering(path)
    assert torch.equal(loaded.centroids, centroids)
    assert loaded.cluster_ids.tolist() == [0, 1, 2]
    assert loaded.config == CONFIG
    assert loaded.checkpoint == ckpt
    import hashlib
    assert loaded.checkpoint_sha256 == hashlib.sha256(b'weights').hexdigest()
    assert loaded.checkpoint_sha256 == file_sha256(ckpt)
    assert loaded.kmeans == dict(n_init=3, seed=0)
    assert (loaded.num_clusters, loaded.feature_dim) == (3, 4)
    # nothing but the file is left behind (atomic write)
    assert sorted(os.listdir(os.path.dirname(path))) == [
        'clustering.safetensors', 'model.pth'
    ]


def rewrite(path, tensors=None, **meta_changes):
    """The file of ``path`` with its tensors / metadata changed."""
    from safetensors import safe_open
    with safe_open(path, 'pt') as f:
        meta = dict(f.metadata())
        old = {k: f.get_tensor(k) for k in f.keys()}
    meta.update(meta_changes)
    meta = {k: v for k, v in meta.items() if v is not None}
    save_file(old if tensors is None else tensors, path, meta)


class Exploit:
    def __reduce__(self):
        return (os.system, ('touch PWNED',))


def test_a_pickle_is_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'clustering.safetensors'
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ValueError, match='is not a clustering file'):
        load_clustering(str(path))
    torch.save({'centroids': Exploit()}, str(path))
    with pytest.raises(ValueError, match='is not a clustering file'):
        load_clustering(str(path))
    assert not (tmp_path / 'PWNED').exists()


@pytest.mark.parametrize('change, message', [
    (dict(format='other'), "format 'other'"),
    (dict(version='2'), "version '2' is not supported"),
    (dict(config=None), 'metadata lacks config'),
    (dict(config='[1, 2]'), 'config must be a JSON object'),
    (dict(config='{bad'), 'config is not valid JSON'),
    (dict(num_clusters='4'), r'centroids must be float32 of shape \(4, 4\)'),
    (dict(num_clusters='x'), "num_clusters='x' is not a positive integer"),
    (dict(normalization='none'), "normalisation 'none' is not supported"),
    (dict(extra='x'), 'unknown metadata extra'),
])
def test_crafted_metadata_is_refused(saved, change, message):
    path = saved[0]
    rewrite(path, **change)
    with pytest.raises(ValueError, match=message):
        load_clustering(path)


@pytest.mark.parametrize('tensors, message', [
    (dict(centroids=torch.zeros(3, 4)), 'expected the tensors'),
    (dict(centroids=torch.zeros(3, 4), cluster_ids=torch.arange(3),
          extra=torch.zeros(1)), 'expected the tensors'),
    (dict(centroids=torch.full((3, 4), float('nan')),
          cluster_ids=torch.arange(3)), 'NaN or inf'),
    (dict(centroids=torch.zeros(3, 4, dtype=torch.float64),
          cluster_ids=torch.arange(3)), 'must be float32'),
    (dict(centroids=torch.zeros(3, 4), cluster_ids=torch.tensor([0, 0, 1])),
     r'cluster_ids must be 0 .. 2'),
])
def test_crafted_tensors_are_refused(saved, tensors, message):
    path = saved[0]
    rewrite(path, tensors)
    with pytest.raises(ValueError, match=message):
        load_clustering(path)


def test_a_header_that_lies_is_refused(tmp_path):
    path = tmp_path / 'c.safetensors'
    header = json.dumps({'__metadata__': {'format': FORMAT}}).encode()
    path.write_bytes(len(header).to_bytes(8, 'little') + header[:-3])
    with pytest.raises(ValueError, match='no safetensors header'):
        load_clustering(str(path))
    with pytest.raises(FileNotFoundError, match='clustering file not found'):
        load_clustering(str(tmp_path / 'missing.safetensors'))


def test_a_config_json_cannot_hold_is_refused_before_writing(tmp_path):
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'w')
    out = tmp_path / 'clustering.safetensors'
    with pytest.raises(TypeError, match='config value model.fn is a '
                       'builtin_function_or_method'):
        save_clustering(str(out), torch.eye(2), dict(model=dict(fn=len)),
                        str(ckpt))
    assert not out.exists()
