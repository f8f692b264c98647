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


def test_folder_config_chooses_the_neighborhood_from_batch_and_k(tmp_path):
    folder = str(tmp_path)
    # the default config's batch of 256: 25.6 images of each of 10
    # clusters, the paper's 10/10/2 fits
    cfg = folder_config(folder, 10)
    assert cfg.model.neighborhood.type == 'ConAffNeighborhood'
    assert (cfg.model.neighborhood.k, cfg.model.neighborhood.k1,
            cfg.model.neighborhood.k2) == (10, 10, 2)
    # batch 64 and 10 clusters: 6.4 per cluster, k <= 0.75 x 6.4
    cfg = folder_config(folder, 10, batch_size=64)
    assert (cfg.model.neighborhood.k, cfg.model.neighborhood.k1,
            cfg.model.neighborhood.k2) == (4, 5, 2)
    # 30 clusters at 256: 8.5 per cluster
    assert folder_config(folder, 30).model.neighborhood.k == 6
    # given: k alone (k1, k2 follow it), or all three
    cfg = folder_config(folder, 10, batch_size=64, neighbors=[2])
    assert (cfg.model.neighborhood.k, cfg.model.neighborhood.k1,
            cfg.model.neighborhood.k2) == (2, 3, 1)
    cfg = folder_config(folder, 10, neighbors=[7, 8, 3])
    assert (cfg.model.neighborhood.k, cfg.model.neighborhood.k1,
            cfg.model.neighborhood.k2) == (7, 8, 3)
    # and cfg_options still come last
    cfg = folder_config(folder, 10, batch_size=64,
                        cfg_options={'model.neighborhood.k': 3})
    assert cfg.model.neighborhood.k == 3
    with pytest.raises(ValueError, match='k or k k1 k2'):
        folder_config(folder, 10, neighbors=[4, 5])
    # a config of the user's keeps its neighbourhood unless told
    from mmconr.utils.paths import shipped_path
    own = shipped_path('configs/custom/byol_conr_folder.py')
    cfg = folder_config(folder, 10, config=own, batch_size=64)
    assert cfg.model.neighborhood.k == 10
