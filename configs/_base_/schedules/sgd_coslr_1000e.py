# Paper §4.2: SGD, base lr 0.05 per 256 images, cosine decay with 50 warm-up
# epochs, 1000 epochs. Momentum 0.9 and weight decay 5e-4 from the official
# config (docs/method.md §4).
max_epochs = 1000
warmup_epochs = 50
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - warmup_epochs,
        eta_min=0.,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# lr is given per 256 images; --auto-scale-lr scales it to the real batch.
auto_scale_lr = dict(base_batch_size=256, enable=False)
