# The official BYOL / ConNR schedule (Hzzone/ProPos and
# cly234/DeepClustering-ConNR `models/basic_template.py`
# `adjust_learning_rate` / `cosine_annealing_LR`, `models/propos/byol.py`;
# docs/reproduction.md): SGD momentum 0.9, weight decay 5e-4 on every
# parameter (BN and biases included: `exclude_bias_and_bn` is off), lr 0.05
# per 256 images of the global batch (`learning_rate * total_batch_size /
# 256`; the dataset configs set lr for their global batch), per iteration
# linear warm-up over 50 epochs and then 0.5 * lr * (1 + cos((e - 50) pi /
# 1000)) with the 1-based iteration's fractional epoch e; the predictor at
# 10 x the lr during the warm-up (`lambda_predictor_lr: 10`).
max_epochs = 1000
warmup_epochs = 50
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'head.predictor': dict(lr_mult=10.)}))
param_scheduler = [
    dict(
        type='WarmupCosineLR',
        warmup_epochs=warmup_epochs,
        period_epochs=max_epochs,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# lr is set for the global batch of each config; --auto-scale-lr would
# rescale it to the real batch.
auto_scale_lr = dict(base_batch_size=256, enable=False)

# The official k-means (torch_clustering.PyTorchKMeans(init='k-means++',
# n_init=10, max_iter=300, tol=1e-4, metric='cosine') on all points,
# basic_template.py `clustering`), for evaluation and the boundary hook.
official_kmeans = dict(n_init=10, max_iter=300, tol=1e-4, spherical=True,
                       init='k-means++', init_size=None)
