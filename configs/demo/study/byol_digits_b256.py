# The digits study at batch 256 (docs/demo.md, "Does ConNR help?"): BYOL
# only, the demo's model and schedule with a global batch of 256 (25.6
# samples of each digit per batch, as the paper's CIFAR-10 batch of 256
# holds) and the lr scaled linearly (0.05 x 4). Its first 100 epochs are
# the batch-256 warm-up (`--cfg-options train_cfg.max_epochs=100`), the
# whole 140 the BYOL continuation the batch-256 ConNR rows are compared
# with.
_base_ = ['./byol_digits_continued.py']

global_batch_size = 256
train_dataloader = dict(batch_size=global_batch_size)
optim_wrapper = dict(optimizer=dict(lr=0.2))
default_hooks = dict(logger=dict(interval=7))
