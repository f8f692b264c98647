# The demo's InC baseline: the same model, data, schedule and seed as
# byol_conr_digits.py, BYOL throughout (no ConNR stage).
_base_ = ['./byol_conr_digits.py']

custom_hooks = []
