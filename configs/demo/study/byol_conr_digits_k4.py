# The digits study (docs/demo.md): ConNR with k/k1/k2 = 4/5/2, a
# neighbourhood smaller than the ~6.4 same-class samples a batch of 64
# holds for 10 clusters (k = 0.62 x B/K); otherwise byol_conr_digits_k10.py.
_base_ = ['./byol_conr_digits_k10.py']

model = dict(neighborhood=dict(k=4, k1=5, k2=2))
