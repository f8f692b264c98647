# Plain SimSiam on the digits demo: simsiam_conr_digits.py without the ConNR
# stage (same model, data, schedule and seed).
_base_ = ['./simsiam_conr_digits.py']

custom_hooks = []
