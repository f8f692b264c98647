# Tiny-ImageNet-200 at 64x64 (paper Table 5): the 100k training images of
# 200 classes (val split optional: splits=('train', 'val')). Augmentations as
# CIFAR ("strictly follow [17]"), crop size 64; the images are 64x64 already,
# so the test pipeline only loads them.
dataset_type = 'TinyImageNet'
data_root = 'data/tiny-imagenet-200/'
num_clusters = 200
# training images (the train split): iterations per epoch for
# tools/misc/print_recipe.py when the data is not at hand
num_train_samples = 100000
img_size = 64
crop_scale = (0.08, 1.0)
crop_scale_stage2 = (0.45, 1.0)  # official ConNR stage, carried over

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    # Tiny-ImageNet statistics (0.4802, 0.4481, 0.3975) /
    # (0.2302, 0.2265, 0.2262); images are loaded as BGR -> to RGB
    mean=[122.45, 114.27, 101.36],
    std=[58.70, 57.76, 57.68],
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
    dict(type='PackInputs')
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
                 splits=('train', ), pipeline=train_pipeline))
# the whole training set with the test pipeline: evaluation and the
# per-epoch k-means of BoundaryFilterHook
feature_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 splits=('train', ), pipeline=test_pipeline))
val_dataloader = feature_dataloader
test_dataloader = feature_dataloader
val_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)
test_evaluator = val_evaluator
