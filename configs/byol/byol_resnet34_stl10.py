# InC baseline on STL-10, ResNet-34. ProPos has no config for it: the
# CIFAR-10 recipe carried over (global batch 512, lr 0.1, BN over groups of
# 128; docs/reproduction.md).
_base_ = [
    '../_base_/models/byol_resnet34.py',
    '../_base_/datasets/stl10.py',
    '../_base_/schedules/byol_official_1000e.py',
    '../_base_/default_runtime.py',
]
global_batch_size = 512
train_dataloader = dict(batch_size=global_batch_size)
# basic_template.py: learning_rate * (total_batch_size / 256)
optim_wrapper = dict(optimizer=dict(lr=0.05 * (global_batch_size / 256)))
model = dict(data_preprocessor={{_base_.data_preprocessor}})
val_evaluator = dict(kmeans_cfg={{_base_.official_kmeans}})
test_evaluator = val_evaluator
