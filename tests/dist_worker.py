"""Worker for the distributed-equivalence tests (tests/test_engine/
test_distributed.py).

Run as ``python -m torch.distributed.run --nproc_per_node N
tests/dist_worker.py MODE OUT`` (gloo on CPU), or call :func:`train_steps`
/ :func:`pseudo_labels` in one process for the reference. Every rank sees
the same global batch and takes its contiguous share of it, as
``DefaultSampler`` + DDP do.
"""
import argparse
import copy
import os
import os.path as osp
import sys

import torch
import torch.distributed as torch_dist

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

GLOBAL_BATCH = 16
NUM_CLUSTERS = 3
SYNC_BN = dict(type='PortableSyncBN')
BACKBONE = dict(type='ResNet_CIFAR', depth=18, stem_channels=8,
                base_channels=8, norm_cfg=SYNC_BN)
NEIGHBORHOOD = dict(type='ConAffNeighborhood', k=4, k1=5, k2=2)


def _neck(last_bn=False):
    return dict(type='NonLinearNeck', in_channels=64, hid_channels=32,
                out_channels=16, num_layers=2, with_avg_pool=True,
                with_last_bn=last_bn, norm_cfg=SYNC_BN)


def _predictor(hidden):
    return dict(type='NonLinearNeck', in_channels=16, hid_channels=hidden,
                out_channels=16, num_layers=2, with_avg_pool=False,
                with_last_bn=False, norm_cfg=SYNC_BN)


MODEL_CFGS = dict(
    byol=dict(
        type='ConNR', backbone=BACKBONE, neck=_neck(),
        head=dict(type='GroupAwareBYOLHead', predictor=_predictor(32),
                  loss=dict(type='GroupAwareCosineLoss')),
        neighborhood=NEIGHBORHOOD, base_momentum=0.01),
    simsiam=dict(
        type='ConNRSimSiam', backbone=BACKBONE, neck=_neck(last_bn=True),
        head=dict(type='GroupAwareBYOLHead', predictor=_predictor(8),
                  loss=dict(type='GroupAwareCosineLoss')),
        neighborhood=NEIGHBORHOOD),
    # MoCo v2 shuffles the key batch across GPUs for its per-GPU BN; with
    # synchronised BN the shuffle changes nothing, so 1 x B == 2 x B/2.
    mocov2=dict(
        type='ConNRMoCo', backbone=BACKBONE, neck=_neck(), queue_len=64,
        feat_dim=16, momentum=0.01,
        head=dict(type='GroupAwareContrastiveHead',
                  loss=dict(type='GroupAwareInfoNCELoss'), temperature=0.2),
        neighborhood=NEIGHBORHOOD),
)


def _rank_world():
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_rank(), torch_dist.get_world_size()
    return 0, 1


def global_batch(step: int):
    """The same (views, data_samples) on every rank for a given step."""
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(1000 + step)
    views = [torch.randn(GLOBAL_BATCH, 3, 8, 8, generator=gen)
             for _ in range(2)]
    samples = []
    for i in range(GLOBAL_BATCH):
        sample = DataSample().set_gt_label(i % NUM_CLUSTERS)
        sample.set_metainfo(dict(sample_idx=i))
        samples.append(sample)
    return views, samples


def train_steps(variant: str, group_stage: bool, steps: int = 2) -> dict:
    """``steps`` SGD steps of a tiny model on the same global batches;
    returns the global loss, the (DDP-averaged) gradients of every step and
    the final state (online, target / key encoder, BN statistics, queue)."""
    from mmengine.logging import MessageHub
    from mmengine.model import MMDistributedDataParallel

    from mmconr.registry import MODELS
    rank, world = _rank_world()
    MessageHub.get_current_instance().update_info('max_iters', 10)
    # float64: differences in summation order (fp32 rounding, ~1e-4 on
    # gradients that are 0 in exact arithmetic) must not hide or fake a
    # difference in semantics.
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(MODEL_CFGS[variant]))
    model.train()
    if group_stage:
        gen = torch.Generator().manual_seed(7)
        centroids = torch.nn.functional.normalize(
            torch.randn(NUM_CLUSTERS, 16, generator=gen), dim=1)
        labels = torch.randint(0, NUM_CLUSTERS, (GLOBAL_BATCH, ),
                               generator=gen)
        model.set_group_stage(True)
        model.set_boundary_state(centroids, labels, 0.75)
    wrapped = model if world == 1 else MMDistributedDataParallel(
        model, device_ids=None)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9,
                                weight_decay=5e-4)
    share = GLOBAL_BATCH // world
    local = slice(rank * share, (rank + 1) * share)
    losses, grads = [], []
    for step in range(steps):
        views, samples = global_batch(step)
        optimizer.zero_grad()
        loss = wrapped(
            inputs=[v[local] for v in views], data_samples=samples[local],
            mode='loss')['loss']
        loss.backward()
        total = loss.detach().clone()
        if world > 1:
            torch_dist.all_reduce(total)
        losses.append(float(total) / world)
        grads.append({n: p.grad.detach().clone()
                      for n, p in model.named_parameters()
                      if p.grad is not None})
        optimizer.step()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.set_default_dtype(torch.float32)
    return dict(losses=losses, grads=grads, state=state)


def pseudo_labels(work_dir: str, launcher: str = 'none') -> dict:
    """Run the digits demo config on 101 images (odd: the distributed
    sampler pads) for one ConNR epoch and return the BoundaryFilterHook's
    state of this rank (features of the untrained model, then k-means)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmconr.utils import setup_launcher
    cfg = Config.fromfile(osp.join(ROOT, 'configs/demo/byol_conr_digits.py'))
    for key in ('train_dataloader', 'feature_dataloader', 'val_dataloader',
                'test_dataloader'):
        cfg[key].dataset.indices = 101
    cfg.train_dataloader.batch_size = 16 // _rank_world()[1]
    cfg.feature_dataloader.batch_size = 8
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 10
    for hook in cfg.custom_hooks:
        hook.start_epoch = 0
    cfg.custom_hooks[1].end_epoch = 1
    cfg.default_hooks.checkpoint.interval = 10
    cfg.default_hooks.logger.interval = 100
    cfg.model.backbone.norm_cfg = SYNC_BN
    cfg.model.neck.norm_cfg = SYNC_BN
    cfg.model.head.predictor.norm_cfg = SYNC_BN
    setup_launcher(cfg, launcher, 'dist_worker.py', work_dir)
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'BoundaryFilterHook')
    state = dict(hook.state)
    # the trained model's pseudo labels for the next epoch, with the
    # gathered features and with the sharded k-means
    after = {}
    for sharded in (False, True):
        hook.sharded_kmeans, hook._dataloader = sharded, None
        hook.before_train_epoch(runner)
        after['sharded' if sharded else 'gathered'] = dict(hook.state)
    return dict(state, after=after)


def group_bn_and_shuffle() -> dict:
    """GroupBN over rank groups (8 samples, 4 processes x 2: each group
    spans 2 ranks) and a shuffled forward through it; this rank's rows of
    a fixed global batch, in sampler order (position q on rank q % W).
    Called by tests/parity_worker.py on its 4 processes."""
    from mmconr.models.utils import GroupBatchNorm
    from mmconr.utils.dist import shuffled_forward
    rank, world = _rank_world()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    grad = torch.randn(16, 3, generator=gen, dtype=torch.float64)
    bn = GroupBatchNorm(3, group_size=8).double()
    local = x[rank::world].clone().requires_grad_()
    out = bn(local)
    out.backward(grad[rank::world])
    shuffled = shuffled_forward(bn, x[rank::world],
                                torch.Generator().manual_seed(3))
    first = GroupBatchNorm(3, group_size=8, running_stats='first_group')
    first.double()(x[rank::world])
    return dict(out=out.detach(), grad=local.grad, weight_grad=bn.weight.grad,
                running_mean=bn.running_mean, shuffled=shuffled,
                first_group_var=first.running_var)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('mode', choices=['steps', 'pseudo_labels'])
    parser.add_argument('out')
    args = parser.parse_args()
    torch.set_num_threads(1)
    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    if args.mode == 'steps':
        torch_dist.init_process_group(backend='gloo')
        results = {
            f'{variant}-{stage}': train_steps(variant, stage == 'group')
            for variant in MODEL_CFGS for stage in ('instance', 'group')
        }
    else:
        results = pseudo_labels(osp.join(args.out, 'work_dir'), 'pytorch')
    rank = torch_dist.get_rank()
    torch.save(results, osp.join(args.out, f'rank{rank}.pt'))
    torch_dist.barrier()
    torch_dist.destroy_process_group()


if __name__ == '__main__':
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    main()
