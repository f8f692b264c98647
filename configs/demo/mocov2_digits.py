# Plain MoCo v2 on the digits demo: mocov2_conr_digits.py without the ConNR
# stage (same model, data, schedule and seed).
_base_ = ['./mocov2_conr_digits.py']

custom_hooks = []
