"""Pure parts of mmconr.apis: schedule stretching, input size, central
order of contact sheets, the CSV writer."""
import csv

import numpy as np
import pytest
import torch

from mmconr.apis import (DEFAULT_FOLDER_CONFIG, Clustering, folder_config,
                         load_config, set_epochs, set_image_size)
from mmconr.apis.folder import _transforms, pipelines
from mmconr.apis.report import write_assignments, write_contact_sheets


def test_set_epochs_keeps_each_phase_share():
    cfg = load_config(DEFAULT_FOLDER_CONFIG)
    assert cfg.train_cfg.max_epochs == 100
    set_epochs(cfg, 300)
    warm, cos = cfg.param_scheduler
    assert (warm.begin, warm.end) == (0, 30)
    assert (cos.begin, cos.end, cos.T_max) == (30, 300, 270)
    neck, boundary = cfg.custom_hooks
    assert neck.start_epoch == 210
    assert (boundary.start_epoch, boundary.end_epoch) == (210, 255)
    assert cfg.train_cfg.max_epochs == 300
    # very short runs still have a BYOL epoch and a ConNR epoch
    set_epochs(cfg, 2)
    warm, cos = cfg.param_scheduler
    assert (warm.begin, warm.end, cos.begin, cos.end) == (0, 1, 1, 2)
    assert (boundary.start_epoch, boundary.end_epoch) == (1, 2)
    with pytest.raises(ValueError, match='epochs must be a positive'):
        set_epochs(cfg, 0)


def test_set_image_size_reaches_every_pipeline():
    cfg = load_config(DEFAULT_FOLDER_CONFIG)
    set_image_size(cfg, 48)
    sizes = []
    for pipeline in pipelines(cfg):
        for t in _transforms(pipeline):
            if t['type'] in ('RandomResizedCrop', 'ResizeEdge'):
                sizes.append(t['scale'])
            elif t['type'] == 'CenterCrop':
                sizes.append(t['crop_size'])
    assert sizes and set(sizes) == {48}
    # the stage-2 pipeline the hook installs by name is included
    crops = [t for t in _transforms(cfg.stage2_train_pipeline)
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


def make_clustering():
    # cluster 0: samples 0, 2, 4 (distances .3, .1, .2); cluster 1: 1, 3
    labels = torch.tensor([0, 1, 0, 1, 0])
    distances = torch.tensor([0.3, 0.5, 0.1, 0.4, 0.2])
    return Clustering(labels, torch.zeros(3, 4), distances,
                      torch.tensor([0.5, 0.9, 0.1, 0.8, 0.3]))


def test_contact_sheets_show_the_most_central_first(tmp_path):
    clustering = make_clustering()
    requested = []

    def load(i):
        requested.append(i)
        return np.full((10, 6, 3), 40 * i, np.uint8)

    sheets = write_contact_sheets(str(tmp_path), clustering, load,
                                  per_sheet=2)
    # cluster 2 is empty: no sheet; cluster 0 shows 2 then 4 (not 0)
    assert sorted(sheets) == [0, 1]
    assert requested == [2, 4, 3, 1]
    from PIL import Image
    with Image.open(sheets[0]) as img:
        assert img.format == 'PNG' and img.width > 0


def test_assignments_csv(tmp_path):
    out = write_assignments(str(tmp_path / 'a.csv'), list('abcde'),
                            make_clustering(), gt_labels=[1, 0, 1, 0, -1])
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['path', 'cluster', 'distance', 'boundary_ratio',
                       'label']
    assert rows[3] == ['c', '0', '0.100000', '0.100000', '1']
    assert len(rows) == 6
