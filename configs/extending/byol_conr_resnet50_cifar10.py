# Extending ConNR to a new backbone (docs/extending.md): the CIFAR-10 ConNR
# config with a ResNet-50 (CIFAR stem) instead of ResNet-18. Only the
# backbone and the projector's input width change; data, schedule and the
# ConNR stage are inherited.
_base_ = ['../conr/byol_conr_cifar10.py']

model = dict(
    backbone=dict(depth=50),
    neck=dict(in_channels=2048))
