"""UnlabeledImageFolder on a folder tree with nested folders, mixed formats,
sizes and colour modes, a corrupt file, a truncated file and a non-image."""
import logging

import numpy as np
import pytest
from mmengine.logging import MMLogger
from PIL import Image

from mmconr.datasets import UnlabeledImageFolder
from mmconr.registry import DATASETS
from tests.fake_data import write_image_folder

PIPELINE = [
    dict(type='CheckedLoadImageFromFile', imdecode_backend='pillow'),
    dict(type='ResizeEdge', scale=24, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=24),
    dict(type='PackInputs'),
]


@pytest.fixture
def folder(tmp_path):
    return write_image_folder(str(tmp_path / 'photos'))


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_lists_readable_images_and_names_the_skipped(folder):
    root, good, bad = folder
    logger = MMLogger.get_current_instance()
    handler = _Capture()
    logger.addHandler(handler)
    try:
        dataset = DATASETS.build(
            dict(type='UnlabeledImageFolder', data_root=root,
                 pipeline=PIPELINE))
    finally:
        logger.removeHandler(handler)
    assert [dataset.get_data_info(i)['img_path']
            for i in range(len(dataset))] == good
    assert dict(dataset.skipped).keys() == bad.keys()
    for path, kind in bad.items():
        assert dict(dataset.skipped)[path].startswith(kind)
    warning = '\n'.join(handler.messages)
    for path in bad:
        assert path in warning
    # every image goes through the pipeline, whatever its size and mode
    for i in range(len(dataset)):
        data = dataset[i]
        assert tuple(data['inputs'].shape) == (3, 24, 24)
        assert int(data['data_samples'].gt_label) == -1
    # the pixels are the file's (as RGB), here a grey PNG
    grey = next(i for i, p in enumerate(good) if '/grey/' in p)
    loaded = DATASETS.build(
        dict(type='UnlabeledImageFolder', data_root=root,
             pipeline=[dict(type='CheckedLoadImageFromFile',
                            imdecode_backend='pillow')]))[grey]['img']
    expected = np.asarray(Image.open(good[grey]).convert('RGB'))[..., ::-1]
    np.testing.assert_array_equal(loaded, expected)


def test_labels_from_subfolders_and_random_subset(folder):
    root, good, _ = folder
    dataset = UnlabeledImageFolder(data_root=root, labels_from='subfolder')
    assert dataset.metainfo['classes'] == ('cats', 'dogs')
    labels = [dataset.get_data_info(i)['gt_label']
              for i in range(len(dataset))]
    assert labels == [0 if '/cats/' in p else 1 for p in good]
    subset = UnlabeledImageFolder(data_root=root, max_images=5, seed=3)
    paths = [subset.get_data_info(i)['img_path'] for i in range(len(subset))]
    assert len(paths) == 5 and paths == sorted(paths)
    assert set(paths) <= set(good)
    again = UnlabeledImageFolder(data_root=root, max_images=5, seed=3)
    assert paths == [again.get_data_info(i)['img_path']
                     for i in range(len(again))]


def test_bad_folders_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing_folder'):
        UnlabeledImageFolder(data_root=str(tmp_path / 'missing_folder'))
    empty = tmp_path / 'only_text'
    empty.mkdir()
    (empty / 'a.txt').write_text('x')
    with pytest.raises(ValueError, match='no readable image under .*only_te'):
        UnlabeledImageFolder(data_root=str(empty))
    with pytest.raises(ValueError, match='labels_from'):
        UnlabeledImageFolder(data_root=str(empty), labels_from='folders')
