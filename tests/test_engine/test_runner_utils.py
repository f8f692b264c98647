import pytest
from torch.utils.data import DataLoader, Dataset

from mmconr.engine import from_config, restart_workers, set_pipeline


class PipelineDataset(Dataset):

    def __init__(self):
        self.pipeline = lambda x: x

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return self.pipeline(dict(value=idx))['value']


def test_stage2_pipeline_reaches_persistent_workers():
    from mmcv.transforms import BaseTransform

    from mmconr.registry import TRANSFORMS

    @TRANSFORMS.register_module(force=True)
    class AddHundred(BaseTransform):

        def transform(self, results):
            results['value'] += 100
            return results

    dataset = PipelineDataset()
    loader = DataLoader(dataset, batch_size=4, num_workers=1,
                        persistent_workers=True)
    assert next(iter(loader)).tolist() == [0, 1, 2, 3]
    set_pipeline(dataset, [dict(type='AddHundred')])
    restart_workers(loader)
    assert next(iter(loader)).tolist() == [100, 101, 102, 103]


def test_hook_arguments_may_name_config_keys():
    from types import SimpleNamespace

    from mmengine.config import Config

    runner = SimpleNamespace(cfg=Config(dict(feature_dataloader=dict(a=1))))
    assert from_config(runner, 'H', 'dataloader',
                       'feature_dataloader') == dict(a=1)
    assert from_config(runner, 'H', 'dataloader', dict(b=2)) == dict(b=2)
    with pytest.raises(KeyError, match="H: num_clusters='nclust' is not a"):
        from_config(runner, 'H', 'num_clusters', 'nclust')
