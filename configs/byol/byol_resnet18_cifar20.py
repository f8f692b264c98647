# InC baseline on CIFAR-20 (100 classes merged into 20 super-classes):
# ProPos `config/cifar20_r18_byol.yml` = the CIFAR-10 recipe with
# `batch_size: 64` on 4 GPUs: global batch 256, lr 0.05 x 256 / 256 = 0.05,
# BN over groups of 64 (docs/reproduction.md).
_base_ = [
    '../_base_/models/byol_resnet18_cifar.py',
    '../_base_/datasets/cifar20_whole.py',
    '../_base_/schedules/byol_official_1000e.py',
    '../_base_/default_runtime.py',
]
global_batch_size = 256
train_dataloader = dict(batch_size=global_batch_size)
# basic_template.py: learning_rate * (total_batch_size / 256)
optim_wrapper = dict(optimizer=dict(lr=0.05 * (global_batch_size / 256)))
bn_group_size = 64
norm_cfg = dict(
    type='GroupBN', group_size=bn_group_size, running_stats='first_group')
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(norm_cfg=norm_cfg),
    head=dict(predictor=dict(norm_cfg=norm_cfg)))
val_evaluator = dict(kmeans_cfg={{_base_.official_kmeans}})
test_evaluator = val_evaluator
