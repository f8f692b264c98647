# The digits study (docs/demo.md): byol_conr_digits_k4.py with the official
# stage lr (every param group at 0.1 x the schedule from the stage's start,
# configs/_base_/conr_stage.py).
_base_ = ['./byol_conr_digits_k4.py']

conr_lr_mult = 0.1
