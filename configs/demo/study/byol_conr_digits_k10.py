# The digits study (docs/demo.md, "Does ConNR help?"): ConNR as in the demo
# (ConAff k/k1/k2 = 10/10/2, mmconr's loss scale, stage lr x 1), continuing
# a BYOL warm-up of configs/demo/byol_digits.py that stopped at epoch 100,
# before BYOL saturates digits. The stage starts at the warm-up's last
# epoch, relaxes to fraction 1 at 125 and the run ends at 140, on the
# demo's cosine schedule (still over 300 epochs): 40 epochs of the same
# length as the BYOL continuation it is compared with. Batch 64 and 10
# clusters give ~6.4 same-class samples per batch: k = 10 is 1.6 x that.
_base_ = ['../byol_conr_digits.py']

conr_start_epoch = 100
relax_end_epoch = 125
train_cfg = dict(max_epochs=140, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=20, max_keep_ckpts=1))
model = dict(neighborhood=dict(k=10, k1=10, k2=2))
