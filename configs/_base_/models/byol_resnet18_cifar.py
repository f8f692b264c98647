# BYOL / ConNR with ResNet-18, CIFAR stem (3x3 conv stride 1, no max-pool), as
# in the paper §4.2. Projector and predictor 4096 hidden -> 256 (docs/method.md
# §4, official config), Linear-BN-ReLU-Linear with biases in both Linear layers
# as the official BYOL wrapper (so that its checkpoints, converted by
# tools/model_converters/connr_to_mmconr.py, load strictly). Without
# ConAffNeckHook this model trains exactly as mmpretrain's BYOL (the InC
# baseline).
model = dict(
    type='ConNR',
    # CosineEMA: mmengine's momentum is the weight of the new parameters,
    # 0.004 -> 0 is the official EMA 0.996 -> 1 over the whole run.
    base_momentum=0.004,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_last_bias=True,
        with_avg_pool=True,
        norm_cfg=dict(type='SyncBN')),
    head=dict(
        type='GroupAwareBYOLHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_last_bias=True,
            with_avg_pool=False,
            norm_cfg=dict(type='SyncBN')),
        loss=dict(type='CosineSimilarityLoss')),
    # docs/method.md §1 / paper §4.2: k, k1, k2 = 10, 10, 2.
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
