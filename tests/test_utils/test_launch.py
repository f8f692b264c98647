"""The per-process batch from a config's global batch."""
import pytest
from mmengine.config import Config

from mmconr.utils.launch import launch_world_size, resolve_batch_size


def cfg_with(global_batch_size, batch_size=7):
    return Config(dict(global_batch_size=global_batch_size,
                       train_dataloader=dict(batch_size=batch_size)))


@pytest.mark.parametrize('world, per_process', [(1, 512), (2, 256),
                                                (4, 128), (8, 64)])
def test_global_batch_is_split_over_the_processes(world, per_process):
    cfg = cfg_with(512)
    message = resolve_batch_size(cfg, world)
    assert cfg.train_dataloader.batch_size == per_process
    assert per_process * world == 512
    assert message.startswith(f'global batch 512 = {world} process')
    assert message.endswith(f'x {per_process}')


def test_a_consistent_per_process_batch_is_accepted():
    cfg = cfg_with(512)
    resolve_batch_size(cfg, 4, batch_size=128)
    assert cfg.train_dataloader.batch_size == 128


def test_indivisible_and_contradicting_batches_are_refused():
    with pytest.raises(ValueError, match=r'global_batch_size=512 cannot be '
                       r'split over 3 processes'):
        resolve_batch_size(cfg_with(512), 3)
    with pytest.raises(ValueError, match=r'train_dataloader.batch_size=128 x '
                       r'8 processes = 1024 contradicts '
                       r'global_batch_size=512'):
        resolve_batch_size(cfg_with(512), 8, batch_size=128)
    for bad in (0, -4, 2.5, True, '512'):
        with pytest.raises(ValueError, match='positive integer'):
            resolve_batch_size(cfg_with(bad), 1)


def test_without_a_global_batch_the_per_process_one_stays():
    cfg = cfg_with(None, batch_size=32)
    assert resolve_batch_size(cfg, 8) is None
    assert cfg.train_dataloader.batch_size == 32


def test_world_size_from_the_launcher_environment(monkeypatch):
    for key in ('WORLD_SIZE', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE'):
        monkeypatch.delenv(key, raising=False)
    assert launch_world_size('none') == 1
    with pytest.raises(RuntimeError, match='WORLD_SIZE'):
        launch_world_size('pytorch')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    assert launch_world_size('slurm') == 8
    monkeypatch.setenv('WORLD_SIZE', '4')
    assert launch_world_size('pytorch') == 4
