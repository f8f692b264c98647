# Plain MoCo v2 baseline (not in the paper: settings carried over from CIFAR,
# not published): 1000 epochs on ImageNet-Dogs, evaluated by k-means on the
# target features.
_base_ = [
    '../_base_/models/mocov2_resnet34.py',
    '../_base_/datasets/imagenet_dogs.py',
    '../_base_/schedules/sgd_coslr_1000e.py',
    '../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
