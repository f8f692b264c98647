# Paper Table 2, row "all (ConNR)" (NMI/ACC/ARI 86.7/93.2/86.1).
# The full method: ConAff neighbourhoods, online boundary detection and
# progressive relaxation - identical to its parent, listed for the table.
_base_ = ['../byol_conr_cifar10.py']
