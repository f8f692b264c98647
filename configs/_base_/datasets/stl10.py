# STL-10 at 96x96 (paper §4.1): training on train + test (13k labelled) and
# the 100k unlabelled images; boundary k-means runs on all 113k. Clustering
# is scored on the 13k labelled images only (the unlabelled have label -1).
# Augmentations as CIFAR ("strictly follow [17]"), crop size 96.
dataset_type = 'STL10'
data_root = 'data/stl10/'
num_clusters = 10
# training images (13k labelled + 100k unlabelled): iterations per epoch for
# tools/misc/print_recipe.py when the data is not at hand
num_train_samples = 113000
img_size = 96
crop_scale = (0.08, 1.0)
crop_scale_stage2 = (0.45, 1.0)  # official ConNR stage, carried over

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    # STL-10 statistics (0.4467, 0.4398, 0.4066) / (0.2603, 0.2566, 0.2713)
    mean=[113.91, 112.15, 103.68],
    std=[66.38, 65.43, 69.18],
    to_rgb=False)


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
    dict(
        type='MultiView',
        num_views=2,
        transforms=[view_pipeline(crop_scale)]),
    dict(type='PackInputs'),
]
stage2_train_pipeline = [
    dict(type='MultiView', num_views=2,
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
    dataset=dict(type=dataset_type, data_root=data_root,
                 splits=('train', 'test', 'unlabeled'),
                 pipeline=train_pipeline))
# whole training set (113k) with the test pipeline: BoundaryFilterHook
feature_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 splits=('train', 'test', 'unlabeled'),
                 pipeline=test_pipeline))
# evaluation on the 13k labelled images
val_dataloader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 splits=('train', 'test'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClusteringMetric', num_clusters=num_clusters)
test_evaluator = val_evaluator
