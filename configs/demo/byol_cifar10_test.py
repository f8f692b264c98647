# The InC baseline of byol_conr_cifar10_test.py: the same model, data,
# schedule and seed, BYOL throughout (no ConNR stage).
_base_ = ['./byol_conr_cifar10_test.py']

custom_hooks = []
