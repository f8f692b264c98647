# ConNR on BYOL, CIFAR-10 (paper Table 1: NMI/ACC/ARI 86.7/93.2/86.1).
# Epochs 0..799: BYOL (InC); epochs 800..999: group-aware concordance with
# ConAff neighbourhoods (k/k1/k2 = 10/10/2, paper §4.2), online boundary
# detection and progressive relaxation (fr0 = 0.8 -> 1 at epoch 850, official
# config, docs/method.md §2); from t0 the lr x 0.1 and RandomResizedCrop scale
# (0.45, 1) of the official code (docs/method.md §4). The stage is
# configs/_base_/conr_stage.py; the InC part is the BYOL baseline config.
#
# Differences from the official code (docs/method.md §3): the loss is averaged
# over the kept local anchors (the official code averages over all B*k pairs,
# filtered ones included) and gradients do not depend on the number of GPUs
# (its GatherLayer scales them by 1/world_size).
_base_ = ['../byol/byol_resnet18_cifar10.py', '../_base_/conr_stage.py']
