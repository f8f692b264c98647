# Paper Table 2, row "+CnAffN+OBD" (NMI/ACC/ARI 85.7/92.5/85.1).
# ConAff neighbourhoods with online boundary detection at a fixed kept
# fraction fr0 = 0.8 (no progressive relaxation).
_base_ = ['../byol_conr_cifar10.py']

relax_end_epoch = None
