# ConNR on BYOL, CIFAR-10 (paper Table 1: NMI/ACC/ARI 86.7/93.2/86.1): the
# official run (cly234/DeepClustering-ConNR `config/cifar10_r18_connr.yml`
# resumed from the ProPos BYOL warm-up `config/cifar10_r18_byol.yml`), on 1,
# 4 or 8 GPUs alike. Epochs 0..799: BYOL (InC, configs/byol/
# byol_resnet18_cifar10.py: global batch 512, lr 0.1, BN over groups of
# 128); epochs 800..999: group-aware concordance with ConAff neighbourhoods
# (k/k1/k2 = 10/10/2), online boundary detection and progressive relaxation
# (configs/_base_/conr_stage.py) at the official loss scale (the model
# options in configs/_base_/models/byol_resnet18_cifar.py).
# `python tools/misc/print_recipe.py CONFIG --gpus 8` shows what a launch
# does; docs/reproduction.md compares every row with
# the official code.
_base_ = ['../byol/byol_resnet18_cifar10.py', '../_base_/conr_stage.py']
