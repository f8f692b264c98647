# The official BYOL / ConNR schedule (Hzzone/ProPos and
# cly234/DeepClustering-ConNR `models/basic_template.py`
# `adjust_learning_rate` / `cosine_annealing_LR`, `models/propos/byol.py`;
# docs/reproduction.md), on top of sgd_coslr_1000e.py (SGD momentum 0.9,
# weight decay 5e-4 on every parameter -- BN and biases included:
# `exclude_bias_and_bn` is off --, lr 0.05 per 256 images of the global
# batch, `learning_rate * total_batch_size / 256`; the dataset configs set
# lr for their global batch): per iteration linear warm-up over 50 epochs
# and then 0.5 * lr * (1 + cos((e - 50) pi / 1000)) with the 1-based
# iteration's fractional epoch e; the predictor at 10 x the lr during the
# warm-up (`lambda_predictor_lr: 10`).
_base_ = ['./sgd_coslr_1000e.py']
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'head.predictor': dict(lr_mult=10.)}))
param_scheduler = [
    dict(
        type='WarmupCosineLR',
        warmup_epochs={{_base_.warmup_epochs}},
        period_epochs={{_base_.max_epochs}},
        by_epoch=True,
        begin=0,
        end={{_base_.max_epochs}},
        convert_to_iter_based=True),
]
# lr is set for the global batch of each config; --auto-scale-lr would
# rescale it to the real batch.

# The official k-means (torch_clustering.PyTorchKMeans(init='k-means++',
# n_init=10, max_iter=300, tol=1e-4, metric='cosine') on all points,
# basic_template.py `clustering`), for evaluation and the boundary hook.
official_kmeans = dict(n_init=10, max_iter=300, tol=1e-4, spherical=True,
                       init='k-means++', init_size=None)
