# Paper Table 2, row "InC" (NMI/ACC/ARI 79.4/87.8/76.6).
# BYOL for all 1000 epochs: the full method without its ConNR stage.
_base_ = ['../byol_conr_cifar10.py']

custom_hooks = []
