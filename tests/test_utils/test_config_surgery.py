"""The folder tool's config surgery: schedule stretching, input size, the
folder datasets."""

import pytest

from mmconr.utils.config import hook_arg, load_config
from mmconr.utils.config_surgery import (DEFAULT_FOLDER_CONFIG, folder_config,
                                         iter_transforms, pipelines,
                                         set_epochs, set_image_size)


def test_set_epochs_keeps_each_phase_share():
    cfg = load_config(DEFAULT_FOLDER_CONFIG)
    assert cfg.train_cfg.max_epochs == 100
    set_epochs(cfg, 300)
    warm, cos = cfg.param_scheduler
    assert (warm.begin, warm.end) == (0, 30)
    assert (cos.begin, cos.end, cos.T_max) == (30, 300, 270)
    neck, boundary = cfg.custom_hooks

    def epochs(hook, *names):
        return tuple(hook_arg(cfg, hook, name) for name in names)

    # both hooks name the stage's top-level keys: each key scaled once
    assert epochs(neck, 'start_epoch') == (210, )
    assert epochs(boundary, 'start_epoch', 'end_epoch') == (210, 255)
    assert (cfg.conr_start_epoch, cfg.relax_end_epoch) == (210, 255)
    assert cfg.train_cfg.max_epochs == 300
    # very short runs still have a BYOL epoch and a ConNR epoch
    set_epochs(cfg, 2)
    warm, cos = cfg.param_scheduler
    assert (warm.begin, warm.end, cos.begin, cos.end) == (0, 1, 1, 2)
    assert epochs(boundary, 'start_epoch', 'end_epoch') == (1, 2)
    # hooks that hold the epochs themselves are scaled too
    neck.start_epoch, boundary.start_epoch, boundary.end_epoch = 1, 1, 2
    set_epochs(cfg, 20)
    assert (neck.start_epoch, boundary.start_epoch,
            boundary.end_epoch) == (10, 10, 20)
    with pytest.raises(ValueError, match='epochs must be a positive'):
        set_epochs(cfg, 0)


def test_set_image_size_reaches_every_pipeline():
    cfg = load_config(DEFAULT_FOLDER_CONFIG)
    set_image_size(cfg, 48)
    sizes = []
    for pipeline in pipelines(cfg):
        for t in iter_transforms(pipeline):
            if t['type'] in ('RandomResizedCrop', 'ResizeEdge'):
                sizes.append(t['scale'])
            elif t['type'] == 'CenterCrop':
                sizes.append(t['crop_size'])
    assert sizes and set(sizes) == {48}
    # the stage-2 pipeline the hook installs by name is included
    crops = [t for t in iter_transforms(cfg.stage2_train_pipeline)
             if t['type'] == 'RandomResizedCrop']
    assert crops and crops[0]['scale'] == 48


def test_folder_config_points_every_folder_dataset(tmp_path):
    cfg = folder_config(str(tmp_path), 7, num_workers=0, max_images=50,
                        cfg_options={'train_dataloader.batch_size': 32})
    for key in ('train_dataloader', 'feature_dataloader', 'test_dataloader'):
        dataset = cfg[key].dataset
        assert dataset.data_root == str(tmp_path)
        assert dataset.max_images == 50 and cfg[key].num_workers == 0
    assert cfg.num_clusters == 7 and cfg.test_evaluator.num_clusters == 7
    assert cfg.train_dataloader.batch_size == 32
    with pytest.raises(ValueError, match='has no UnlabeledImageFolder'):
        folder_config(str(tmp_path), 3,
                      config='configs/demo/byol_conr_digits.py')


def test_set_neighborhood_from_the_batch_and_k(tmp_path):
    from mmconr.utils.config_surgery import set_neighborhood

    def sizes(num_clusters, batch=None, neighbors=None):
        cfg = folder_config(str(tmp_path), num_clusters, batch_size=batch)
        set_neighborhood(cfg, neighbors)
        nbr = cfg.model.neighborhood
        return nbr.k, nbr.k1, nbr.k2

    # the default config's batch of 256: 25.6 images of each of 10
    # clusters, the paper's 10/10/2 fits
    assert sizes(10) == (10, 10, 2)
    # batch 64 and 10 clusters: 6.4 per cluster, k <= 0.75 x 6.4
    assert sizes(10, 64) == (4, 5, 2)
    assert sizes(30)[0] == 6  # 8.5 per cluster at 256
    # given: k alone (k1, k2 follow it), or all three
    assert sizes(10, 64, [2]) == (2, 3, 1)
    assert sizes(10, None, [7, 8, 3]) == (7, 8, 3)
    with pytest.raises(ValueError, match='k or k k1 k2'):
        sizes(10, None, [4, 5])
    # a local neighbourhood has k only
    cfg = folder_config(str(tmp_path), 10, cfg_options={
        'model.neighborhood': dict(_delete_=True, type='LocalNeighborhood',
                                   k=10)})
    assert set_neighborhood(cfg) == dict(k=10)
    with pytest.raises(ValueError, match=r'must be k \(positive'):
        set_neighborhood(cfg, [4, 5, 2])


def test_cluster_folder_sizes_k_for_the_batch_it_trains_with(
        tmp_path, monkeypatch):
    """The choice comes after the batch is cut to a small folder, only
    when the default config trains, and yields to cfg_options."""
    import numpy as np
    from PIL import Image

    from mmconr.apis import folder as folder_api
    rng = np.random.default_rng(0)
    for i in range(48):  # 48 images < the default batch of 256
        Image.fromarray(rng.integers(0, 255, (12, 12, 3), np.uint8)).save(
            tmp_path / f'{i:02d}.png')
    trained = []

    def fake_train(cfg):
        trained.append(cfg)
        raise KeyboardInterrupt  # stop before any training

    monkeypatch.setattr(folder_api, 'train_from_config', fake_train)

    def training_cfg(**kwargs):
        with pytest.raises(KeyboardInterrupt):
            folder_api.cluster_folder(str(tmp_path), 6,
                                      str(tmp_path / 'out'), num_workers=0,
                                      **kwargs)
        return trained.pop()

    cfg = training_cfg()
    assert cfg.train_dataloader.batch_size == 48  # 8 images of a cluster
    assert (cfg.model.neighborhood.k, cfg.model.neighborhood.k1) == (6, 7)
    cfg = training_cfg(cfg_options={'model.neighborhood.k': 9})
    assert cfg.model.neighborhood.k == 9
    cfg = training_cfg(neighbors=[3])
    assert cfg.model.neighborhood.k == 3
    with pytest.raises(ValueError, match='cannot be given with a checkpoint'):
        folder_api.cluster_folder(str(tmp_path), 6, str(tmp_path / 'o2'),
                                  checkpoint='x.pth', neighbors=[3])
