# SimSiam (+ ConNR*) with ResNet-18, CIFAR stem. Projector 3 layers and
# predictor bottleneck 512 as in SimSiam (Chen & He, 2021) and mmpretrain's
# SimSiam configs, at ResNet-18 width (512 -> 2048). The ConNR paper does not
# publish its SimSiam settings; the rest (schedule, ConNR stage) is carried
# over from the BYOL configs. Without ConAffNeckHook this model trains
# exactly as mmpretrain's SimSiam.
model = dict(
    type='ConNRSimSiam',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=dict(type='PortableSyncBN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=512,
        hid_channels=2048,
        out_channels=2048,
        num_layers=3,
        with_last_bn_affine=False,
        with_avg_pool=True,
        norm_cfg=dict(type='PortableSyncBN')),
    head=dict(
        type='GroupAwareBYOLHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=2048,
            hid_channels=512,
            out_channels=2048,
            with_avg_pool=False,
            with_last_bn=False,
            with_last_bias=True,
            norm_cfg=dict(type='PortableSyncBN')),
        loss=dict(type='GroupAwareCosineLoss')),
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
