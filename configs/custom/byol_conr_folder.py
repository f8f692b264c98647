# ConNR on any folder of images: the default config of
# tools/cluster_images.py (and mmconr.apis.cluster_folder), which sets the
# folder (`data_root` of every UnlabeledImageFolder below) and K
# (`num_clusters`). Images are found recursively (.jpg/.jpeg/.png/.webp/.bmp,
# any case, any size and colour mode); files that do not decode are skipped
# with a warning naming them. Nothing is labelled, so there is no
# validation; `tools/test.py ... --out` clusters without scoring.
#
# The paper's recipe (docs/method.md) on a short schedule for a few thousand to
# a few tens of thousands of images on one GPU: 100 epochs, BYOL until epoch
# 70, then the group-aware stage (ConAff k/k1/k2 = 10/10/2, boundary filtering
# fr0 = 0.8 relaxed to 1 at epoch 85, stage-2 crops (0.45, 1)). The paper
# trains 1000 epochs (ConNR from 800); longer is better, e.g. `--epochs 300` of
# tools/cluster_images.py scales the whole schedule. With so few iterations the
# EMA target is made faster than the paper's (momentum 0.01 -> 0 instead of
# 0.004 -> 0, cf. docs/demo.md) and the lr is not cut at t0 (on a 100-epoch
# cosine it is already low there).
#
# ResNet-18 with the ImageNet stem on 96x96 inputs (STL-10's size): every
# image is resized to 96 on its short side and centre-cropped for the
# features; training uses random resized crops of 96. Another size:
# `--img-size` of tools/cluster_images.py.
_base_ = ['../_base_/default_runtime.py', '../_base_/conr_stage.py']

data_root = ''  # the image folder (tools/cluster_images.py sets it)
num_clusters = 10  # K (tools/cluster_images.py --num-clusters)
img_size = 96
max_epochs = 100
warmup_epochs = 10
# The ConNR stage (configs/_base_/conr_stage.py) on this schedule; the lr is
# not cut at t0 (on a 100-epoch cosine it is already low there).
conr_start_epoch = 70  # t0
relax_end_epoch = 85  # T: the kept fraction reaches 1
start_fraction = 0.8  # fr0 (official config)
conr_lr_mult = 1.0
conr_keep_group_lr_mult = True
relax_one_based = False
feature_amp = True
boundary_kmeans = dict(_delete_=True, n_init=1, max_iter=50, spherical=True)

model = dict(
    type='ConNR',
    base_momentum=0.01,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        # ImageNet statistics; CheckedLoadImageFromFile gives BGR, hence to_rgb
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet', depth=18, norm_cfg=dict(type='PortableSyncBN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_last_bias=True,
        with_avg_pool=True,
        norm_cfg=dict(type='PortableSyncBN')),
    head=dict(
        type='GroupAwareBYOLHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_last_bias=True,
            with_avg_pool=False,
            norm_cfg=dict(type='PortableSyncBN')),
        loss=dict(type='GroupAwareCosineLoss')),
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)

load_image = dict(type='CheckedLoadImageFromFile', imdecode_backend='pillow')


def view_pipeline(crop_scale):
    return [
        dict(
            type='RandomResizedCrop',
            scale=img_size,
            crop_ratio_range=crop_scale,
            backend='pillow'),
        dict(type='RandomFlip', prob=0.5),
        dict(
            type='RandomApply',
            transforms=[
                dict(
                    type='ColorJitter',
                    brightness=0.4,
                    contrast=0.4,
                    saturation=0.4,
                    hue=0.1)
            ],
            prob=0.8),
        dict(
            type='RandomGrayscale',
            prob=0.2,
            keep_channels=True,
            channel_weights=(0.114, 0.587, 0.2989)),
    ]


train_pipeline = [
    load_image,
    dict(type='MultiView', num_views=2,
         transforms=[view_pipeline((0.2, 1.))]),
    dict(type='PackInputs'),
]
stage2_train_pipeline = [
    load_image,
    dict(type='MultiView', num_views=2,
         transforms=[view_pipeline((0.45, 1.))]),
    dict(type='PackInputs'),
]
test_pipeline = [
    load_image,
    dict(type='ResizeEdge', scale=img_size, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='UnlabeledImageFolder', data_root=data_root,
        pipeline=train_pipeline))
# The whole folder with the test pipeline: the per-epoch k-means of
# BoundaryFilterHook and the final features.
feature_dataloader = dict(
    batch_size=256,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UnlabeledImageFolder', data_root=data_root,
        pipeline=test_pipeline))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = feature_dataloader
test_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0., by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# lr is given per 256 images; --auto-scale-lr scales it to the real batch.
auto_scale_lr = dict(base_batch_size=256, enable=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2,
                    save_last=True))
dataset_name = 'folder'
