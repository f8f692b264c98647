# BYOL / ConNR with ResNet-34 (paper §4.2: ResNet-34 for STL-10, ImageNet-10,
# ImageNet-Dogs and Tiny-ImageNet). The paper does not say which stem; we keep
# the standard ImageNet stem (7x7 stride 2 + max-pool) for these >= 64 px
# datasets. Projector / predictor 4096 hidden -> 256 as for CIFAR.
_base_ = ['./byol_resnet18_cifar.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=34,
        norm_cfg={{_base_.norm_cfg}},
        zero_init_residual=False))
