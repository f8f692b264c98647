# ImageNet-10 (13,000 ImageNet train images of 10 classes) at 96x96
# (paper §4.1). Build data/imagenet10 with
# tools/dataset_converters/build_imagenet_subset.py (docs/datasets.md).
# Augmentations as CIFAR ("strictly follow [17]"), crop size 96; the test
# pipeline resizes the short side to 96 and centre-crops 96 (our choice: the
# paper gives only the size).
dataset_type = 'ImageNet10'
data_root = 'data/imagenet10/'
num_clusters = 10
# training images (13,000 images): iterations per epoch for
# tools/misc/print_recipe.py when the data is not at hand
num_train_samples = 13000
img_size = 96
test_resize = 96
crop_scale = (0.08, 1.0)
crop_scale_stage2 = (0.45, 1.0)  # official ConNR stage, carried over

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    # ImageNet statistics; images are loaded as BGR and converted to RGB
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)


def view_pipeline(scale):
    return [
        dict(type='RandomResizedCrop', scale=img_size,
             crop_ratio_range=scale, backend='pillow'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.4, hue=0.1)]),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
    ]


train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='MultiView',
        num_views=2,
        transforms=[view_pipeline(crop_scale)]),
    dict(type='PackInputs'),
]
stage2_train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='MultiView', num_views=2,
         transforms=[view_pipeline(crop_scale_stage2)]),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ResizeEdge', scale=test_resize, edge='short',
         backend='pillow'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs'),
]

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
    dataset=dict(type=dataset_type, data_root=data_root,
                 pipeline=train_pipeline))
feature_dataloader = dict(
    batch_size=256,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 pipeline=test_pipeline))
val_dataloader = feature_dataloader
test_dataloader = feature_dataloader
val_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)
test_evaluator = val_evaluator
