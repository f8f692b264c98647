# Plain MoCo v2 baseline (paper Table 4): 1000 epochs on
# CIFAR-10 train+test, evaluated by k-means on the target features.
_base_ = [
    '../_base_/models/mocov2_resnet18_cifar.py',
    '../_base_/datasets/cifar10_whole.py',
    '../_base_/schedules/sgd_coslr_1000e.py',
    '../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
