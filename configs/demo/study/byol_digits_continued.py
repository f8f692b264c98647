# The digits study's baseline (docs/demo.md, "Does ConNR help?"): BYOL only,
# the demo's model and schedule, continuing the same BYOL warm-up (epoch 100
# of configs/demo/byol_digits.py) to epoch 140 like every ConNR row.
_base_ = ['./byol_conr_digits_k10.py']

custom_hooks = []
