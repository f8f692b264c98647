# CIFAR-10, train + test (60k images) as in the deep-clustering protocol
# (paper §4.1). Augmentations "strictly follow [17]" (ProPos, paper §4.2):
# ResizedCrop, ColorJitter, Grayscale, HorizontalFlip. The crop scale range is
# not given in the paper; we use torchvision's default (0.08, 1) and the
# official ConNR stage switches to (0.45, 1) (see crop_scale_stage2).
dataset_type = 'CIFAR10Whole'
data_root = 'data/cifar10/'
num_clusters = 10
# training images (CIFAR-10 train + test): iterations per epoch for
# tools/misc/print_recipe.py when the data is not at hand
num_train_samples = 60000
img_size = 32
crop_scale = (0.08, 1.0)
crop_scale_stage2 = (0.45, 1.0)

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    # CIFAR-10 statistics (0..255 scale); images are RGB already.
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)


def view_pipeline(scale):
    return [
        dict(
            type='RandomResizedCrop',
            scale=img_size,
            crop_ratio_range=scale,
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
    dict(
        type='MultiView',
        num_views=2,
        transforms=[view_pipeline(crop_scale)]),
    dict(type='PackInputs'),
]
stage2_train_pipeline = [
    dict(
        type='MultiView',
        num_views=2,
        transforms=[view_pipeline(crop_scale_stage2)]),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

# The batch of one optimisation step over all processes: ConNR's
# neighbourhoods, boundary filtering and lr depend on it. tools/train.py
# sets train_dataloader.batch_size = global_batch_size / processes
# (mmconr.utils.launch.resolve_batch_size); the batch_size below is the
# 1-process value, for tools that build a runner themselves.
global_batch_size = 256
train_dataloader = dict(
    batch_size=global_batch_size,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))

# The whole training set with the test pipeline: evaluation and the
# per-epoch k-means of BoundaryFilterHook.
feature_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
val_dataloader = feature_dataloader
test_dataloader = feature_dataloader
val_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)
test_evaluator = val_evaluator
