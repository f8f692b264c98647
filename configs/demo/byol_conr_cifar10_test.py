# ConNR on natural images at CPU scale: the 10,000 CIFAR-10 test images (an
# image folder with one sub-folder per class, `data/cifar10-test-jpg/`;
# tools/dataset_converters/cifar10_to_folder.py writes it from the standard
# CIFAR-10 test batch, docs/datasets.md),
# 32x32, clustered into the 10 classes, on 2 CPU cores: 40 epochs in about
# 25 minutes, for the study of docs/demo.md. The folder config
# (configs/custom/byol_conr_folder.py) narrowed for a CPU: ResNet-18 with
# the ImageNet stem (stride-2 conv and max-pool, so 8x8 maps after the
# stem) and 16 base channels (128-d features), 128-d projections, batch
# 128, a 40-epoch cosine schedule with BYOL until epoch 30, then the
# group-aware stage (ConAff k/k1/k2 = 4/5/2: the digits study's setting, k
# about 0.3 x the 12.8 same-class images a batch of 128 holds for 10
# classes; fraction 1 at epoch 35). This is far shorter than the paper's
# 1000 epochs: the features stay weak. The labels come from the sub-folders
# and are used only to score.
_base_ = ['../custom/byol_conr_folder.py']

data_root = 'data/cifar10-test-jpg'
num_clusters = 10
img_size = 32
max_epochs = 40
warmup_epochs = 3
conr_start_epoch = 30
relax_end_epoch = 35
boundary_kmeans = dict(_delete_=True, n_init=3, max_iter=50, spherical=True)

model = dict(
    base_momentum=0.05,
    data_preprocessor=dict(
        # CIFAR-10 statistics (RGB, 0..255); CheckedLoadImageFromFile gives
        # BGR, hence to_rgb
        mean=[125.307, 122.961, 113.8575],
        std=[51.5865, 50.847, 51.255]),
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=512, out_channels=128),
    head=dict(predictor=dict(in_channels=128, hid_channels=512,
                             out_channels=128)),
    neighborhood=dict(k=4, k1=5, k2=2),
)


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


load_image = dict(type='CheckedLoadImageFromFile', imdecode_backend='pillow')
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
# CIFAR's images are 32x32 already; other folders are brought to it
test_pipeline = [
    load_image,
    dict(type='ResizeEdge', scale=img_size, edge='short', backend='pillow'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

global_batch_size = 128
train_dataloader = dict(
    batch_size=global_batch_size,
    num_workers=2,
    dataset=dict(data_root=data_root, labels_from='subfolder',
                 pipeline=train_pipeline))
feature_dataloader = dict(
    batch_size=256,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='UnlabeledImageFolder', data_root=data_root,
                 labels_from='subfolder', pipeline=test_pipeline))
val_dataloader = dict(feature_dataloader, _delete_=True)
val_evaluator = dict(
    _delete_=True, type='ClusteringMetric', num_clusters=num_clusters)
val_cfg = dict(_delete_=True, type='ValLoop')
test_dataloader = feature_dataloader
test_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)

optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0., by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
default_hooks = dict(
    logger=dict(interval=26),
    checkpoint=dict(interval=10, max_keep_ckpts=2))
dataset_name = 'cifar10_test'
