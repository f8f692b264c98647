# InC baseline (paper Table 1 "BYOL") and the ConNR warm-up: the official
# 800-epoch BYOL of Hzzone/ProPos `config/cifar10_r18_byol.yml` (the ConNR
# code resumes from it), run for 1000 epochs here, evaluated by k-means on
# the target features of CIFAR-10 train+test. Its recipe, file by file:
# configs/_base_/models/byol_resnet18_cifar.py,
# configs/_base_/schedules/byol_official_1000e.py and docs/reproduction.md.
# Global batch 4 GPUs x 128 = 512 (`batch_size: 128`, `num_devices: 4`), lr
# 0.05 x 512 / 256 = 0.1, BN over groups of 128; the same on 1, 4 or 8 GPUs.
_base_ = [
    '../_base_/models/byol_resnet18_cifar.py',
    '../_base_/datasets/cifar10_whole.py',
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
