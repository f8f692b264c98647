# The simsiam model of simsiam_resnet18_cifar.py on ResNet-34 with the standard
# ImageNet stem (see byol_resnet34.py).
_base_ = ['./simsiam_resnet18_cifar.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=34,
        norm_cfg=dict(type='PortableSyncBN'),
        zero_init_residual=False))
