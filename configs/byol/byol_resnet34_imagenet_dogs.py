# InC baseline (paper Table 1 "BYOL"): plain BYOL for 1000 epochs on
# ImageNet-Dogs, evaluated by k-means on the target features. The ConNR model
# without ConAffNeckHook is exactly mmpretrain's BYOL.
_base_ = [
    '../_base_/models/byol_resnet34.py',
    '../_base_/datasets/imagenet_dogs.py',
    '../_base_/schedules/sgd_coslr_1000e.py',
    '../_base_/default_runtime.py',
]
model = dict(data_preprocessor={{_base_.data_preprocessor}})
