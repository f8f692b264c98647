# The digits study (docs/demo.md): ConNR with k/k1/k2 = 2/3/1
# (k = 0.31 x B/K at batch 64, 10 clusters); otherwise
# byol_conr_digits_k10.py.
_base_ = ['./byol_conr_digits_k10.py']

model = dict(neighborhood=dict(k=2, k1=3, k2=1))
