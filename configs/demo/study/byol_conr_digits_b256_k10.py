# The digits study at batch 256 (docs/demo.md): ConNR with the paper's
# k/k1/k2 = 10/10/2, 0.39 x the 25.6 samples of a digit a batch of 256
# holds, from epoch 100 of the batch-256 BYOL warm-up (byol_digits_b256.py);
# otherwise byol_conr_digits_k10.py.
_base_ = ['./byol_conr_digits_k10.py']

global_batch_size = 256
train_dataloader = dict(batch_size=global_batch_size)
optim_wrapper = dict(optimizer=dict(lr=0.2))
default_hooks = dict(logger=dict(interval=7))
