# The digits study (docs/demo.md): paper Table 2's "LN + OBD + PR" row on
# the study's protocol - byol_conr_digits_k4.py with local (cosine k-NN,
# k = 4) neighbourhoods instead of ConAff, boundary filtering and
# relaxation kept.
_base_ = ['./byol_conr_digits_k4.py']

model = dict(neighborhood=dict(_delete_=True, type='LocalNeighborhood', k=4))
