"""Every CUDA-only branch against its CPU counterpart. Marked ``cuda`` and
skipped, with the reason, where no GPU is (``pytest -m cuda tests`` runs
them alone; tools/analysis_tools/gpu_check.sh does on a GPU machine)."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs/demo/byol_conr_digits.py')

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason='no CUDA device on this machine'),
]


def demo_model_and_loader(num_images=256):
    from mmconr.apis import build_dataloader, init_model
    torch.manual_seed(0)
    model = init_model(DEMO, device='cuda', cfg_options={
        'feature_dataloader.dataset.indices': num_images,
        'feature_dataloader.batch_size': 64})
    return model, build_dataloader(model.cfg, num_workers=0)


def test_fp16_autocast_feature_pass_equals_fp32():
    from mmconr.clustering import extract_dataset_features
    model, loader = demo_model_and_loader()
    fp32, labels = extract_dataset_features(model, loader, amp=False,
                                            channels_last=False)
    fp16, labels16 = extract_dataset_features(model, loader, amp=True,
                                              channels_last=False)
    assert fp16.dtype == torch.float32 and torch.equal(labels, labels16)
    cosine = (fp32 * fp16).sum(1)  # both L2-normalised
    assert cosine.min() > 0.999, float(cosine.min())


def test_channels_last_feature_pass_equals_contiguous():
    from mmconr.clustering import extract_dataset_features
    model, loader = demo_model_and_loader()
    plain, _ = extract_dataset_features(model, loader, amp=False,
                                        channels_last=False)
    last, _ = extract_dataset_features(model, loader, amp=False,
                                       channels_last=True)
    torch.testing.assert_close(last, plain, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('batch', [64, 512])
def test_dense_conaff_on_cuda_equals_cpu(batch):
    from mmconr.models.neighborhoods import conaff_neighbors
    from mmconr.models.neighborhoods.dense import conaff_affinity
    gen = torch.Generator().manual_seed(batch)
    feats = torch.randn(batch, 32, generator=gen)
    cpu = conaff_affinity(feats, 10, 2)
    gpu = conaff_affinity(feats.cuda(), 10, 2).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-5, atol=1e-6)
    nbr_cpu = conaff_neighbors(feats, 10, 10, 2, method='dense')
    nbr_gpu = conaff_neighbors(feats.cuda(), 10, 10, 2, method='dense')
    assert nbr_gpu.device.type == 'cuda'
    # the same neighbour sets (the order of exact ties may differ)
    pairs = zip(nbr_cpu.tolist(), nbr_gpu.cpu().tolist())
    same = [set(a) == set(b) for a, b in pairs]
    assert np.mean(same) > 0.99


def test_kmeans_on_cuda_equals_cpu():
    from mmconr.clustering import kmeans
    rng = np.random.default_rng(0)
    centres = 3 * rng.standard_normal((8, 32))
    x = centres[rng.integers(0, 8, 5000)] + rng.standard_normal((5000, 32))
    x = torch.from_numpy(
        (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32))
    c_cpu, l_cpu = kmeans(x, 8, n_init=3, seed=1)
    c_gpu, l_gpu = kmeans(x.cuda(), 8, n_init=3, seed=1)
    assert c_gpu.device.type == 'cpu'  # results on the CPU, as documented
    assert torch.equal(l_gpu, l_cpu)
    torch.testing.assert_close(c_gpu, c_cpu, rtol=0, atol=1e-5)


def _sync_bn_worker(rank, world, init_file, out):
    import torch.distributed as torch_dist
    torch_dist.init_process_group('nccl', init_method=f'file://{init_file}',
                                  rank=rank, world_size=world)
    torch.cuda.set_device(rank)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 4),
                              torch.nn.BatchNorm1d(4)).cuda()
    net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    ddp = torch.nn.parallel.DistributedDataParallel(net, device_ids=[rank])
    x = torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    ddp(x[rank::world].cuda()).pow(2).sum().backward()
    if rank == 0:
        torch.save(dict(weight_grad=net[0].weight.grad.cpu(),
                        running_mean=net[1].running_mean.cpu()), out)
    torch_dist.destroy_process_group()


@pytest.mark.skipif(torch.cuda.device_count() < 2,
                    reason='torch SyncBatchNorm under DDP needs 2 GPUs')
def test_torch_sync_batchnorm_under_ddp_equals_one_batch(tmp_path):
    """2 GPUs (NCCL) with SyncBatchNorm over halves of a batch: the
    gradients and running statistics of BN over the whole batch."""
    out = str(tmp_path / 'rank0.pt')
    mp.spawn(_sync_bn_worker, args=(2, str(tmp_path / 'init'), out),
             nprocs=2, join=True)
    got = torch.load(out, weights_only=True)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 4),
                              torch.nn.BatchNorm1d(4)).cuda()
    x = torch.randn(16, 6, generator=torch.Generator().manual_seed(1))
    # DDP averages the gradient over 2 ranks: half the whole-batch sum
    (net(x.cuda()).pow(2).sum() / 2).backward()
    torch.testing.assert_close(got['weight_grad'], net[0].weight.grad.cpu(),
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(got['running_mean'],
                               net[1].running_mean.cpu(), rtol=1e-4,
                               atol=1e-6)
