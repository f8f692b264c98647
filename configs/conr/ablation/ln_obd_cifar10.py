# Paper Table 2, row "+LN+OBD" (NMI/ACC/ARI 83.9/91.1/82.3).
# Local neighbourhoods with online boundary detection at a fixed kept
# fraction fr0 = 0.8 (no progressive relaxation).
_base_ = ['../byol_conr_cifar10.py']

model = dict(neighborhood=dict(_delete_=True, type='LocalNeighborhood', k=10))

relax_end_epoch = None
