# Paper Table 2, row "+LN+OBD+PR" (NMI/ACC/ARI 84.8/91.6/84.2).
# Local neighbourhoods with boundary detection and progressive relaxation.
_base_ = ['../byol_conr_cifar10.py']

model = dict(neighborhood=dict(_delete_=True, type='LocalNeighborhood', k=10))
