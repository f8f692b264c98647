"""Training-step time of the instance stage (plain BYOL) vs the group stage
(ConNR) of one model, on synthetic images of the config's size.

    python tools/analysis_tools/benchmark_step.py CONFIG [--device cpu|cuda]
        [--batch-size N] [--iters N] [--rounds N] [--warmup N]
        [--cfg-options KEY=VALUE ...]

The model of CONFIG (SyncBN reverted to BN) trains with the config's
optimizer on random uint8 images of the train pipeline's size. Rounds
alternate ``--iters`` instance-stage and ``--iters`` group-stage iterations
(after ``--warmup`` untimed iterations of each), so that a busy machine
slows both alike; the medians over all timed iterations are compared. The
group stage runs with boundary filtering on (random centroids and pseudo
labels, kept fraction 0.8), as in the epochs before the fraction reaches 1.

Ends with one line ``instance_ms=… group_ms=… ratio=…``.
"""
import argparse

import torch
from bench_utils import get_device, machine_line, median, time_calls
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--batch-size', type=int,
                        help="default: the config's train batch size")
    parser.add_argument('--iters', type=int, default=5,
                        help='timed iterations per stage and round')
    parser.add_argument('--rounds', type=int, default=4)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--amp', action='store_true',
                        help='AmpOptimWrapper (CUDA)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def find_img_size(cfg: Config) -> int:
    """Side of the training images: ``img_size`` or the crop's scale."""
    if isinstance(cfg.get('img_size'), int):
        return cfg.img_size

    def crops(obj):
        if isinstance(obj, dict):
            if obj.get('type') == 'RandomResizedCrop':
                yield obj['scale']
            for v in obj.values():
                yield from crops(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                yield from crops(v)

    sizes = list(crops(cfg.train_dataloader.dataset.get('pipeline', [])))
    if not sizes:
        raise ValueError('cannot tell the image size of this config: set '
                         'img_size=... with --cfg-options')
    size = sizes[0]
    return size if isinstance(size, int) else size[0]


def build_model(cfg: Config, device: torch.device):
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import build_optim_wrapper

    from mmconr.registry import MODELS
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(device)
    if not hasattr(model, 'set_group_stage'):
        raise TypeError(f'{type(model).__name__} is not a ConNR-style model '
                        '(no set_group_stage)')
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


class SyntheticBatches:
    """Random two-view uint8 batches with sample indices and labels."""

    def __init__(self, batch_size: int, img_size: int, num_classes: int,
                 pool: int, device: torch.device) -> None:
        from mmpretrain.structures import DataSample
        self.gen = torch.Generator().manual_seed(0)
        self.batch_size, self.img_size = batch_size, img_size
        self.num_classes, self.pool = num_classes, pool
        self.sample_cls = DataSample
        self.device = device

    def __call__(self) -> dict:
        shape = (self.batch_size, 3, self.img_size, self.img_size)
        views = [
            torch.randint(0, 256, shape, dtype=torch.uint8,
                          generator=self.gen).to(self.device)
            for _ in range(2)
        ]
        idx = torch.randperm(self.pool, generator=self.gen)[:self.batch_size]
        labels = torch.randint(self.num_classes, (self.batch_size, ),
                               generator=self.gen)
        samples = []
        for i, y in zip(idx.tolist(), labels.tolist()):
            s = self.sample_cls().set_gt_label(y)
            s.set_metainfo(dict(sample_idx=i))
            samples.append(s)
        return dict(inputs=views, data_samples=samples)


def set_group_stage(model, batches: SyntheticBatches, enabled: bool) -> None:
    model.set_group_stage(enabled)
    if enabled:
        with torch.no_grad():
            feats = model.extract_target_feat(
                model.data_preprocessor(batches(), False)['inputs'][0])
        gen = torch.Generator().manual_seed(1)
        centroids = torch.nn.functional.normalize(
            torch.randn(batches.num_classes, feats.shape[1], generator=gen),
            dim=1)
        labels = torch.randint(batches.num_classes, (batches.pool, ),
                               generator=gen)
        model.set_boundary_state(centroids, labels, 0.8)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.logging import MessageHub

    from mmconr.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    device = get_device(args.device)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    img_size = find_img_size(cfg)
    num_classes = int(cfg.get('num_clusters', 10))
    # CosineEMA reads the schedule length from the message hub
    MessageHub.get_current_instance().update_info('max_iters', 10**6)
    model, optim_wrapper = build_model(cfg, device)
    batches = SyntheticBatches(batch_size, img_size, num_classes,
                               pool=4 * batch_size, device=device)
    print(machine_line(device))
    print(f'# {args.config}: batch {batch_size}, {img_size}x{img_size} '
          f'images, backbone {cfg.model.backbone.type} depth '
          f'{cfg.model.backbone.get("depth")}, neighbourhood '
          f'{model.neighborhood}')

    def step():
        model.train_step(batches(), optim_wrapper)

    times = {False: [], True: []}
    for stage in (False, True):  # warm-up, untimed
        set_group_stage(model, batches, stage)
        time_calls(step, device, 0, warmup=args.warmup)
    for _ in range(args.rounds):
        for stage in (False, True):
            set_group_stage(model, batches, stage)
            times[stage] += time_calls(step, device, args.iters, warmup=0)
    instance_ms = 1000 * median(times[False])
    group_ms = 1000 * median(times[True])
    print(f'instance_ms={instance_ms:.1f} group_ms={group_ms:.1f} '
          f'ratio={group_ms / instance_ms:.3f}')


if __name__ == '__main__':
    main()
