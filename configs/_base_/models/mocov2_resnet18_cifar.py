# MoCo v2 (+ ConNR*) with ResNet-18, CIFAR stem: MLP head 512 -> 2048 -> 128,
# temperature 0.2, key-encoder momentum 0.999 (mmengine: 0.001), as in MoCo v2
# (Chen et al., 2020) and mmpretrain's configs; the queue holds 4,096 keys
# (65,536 would exceed the 60k-image datasets). The ConNR paper does not
# publish its MoCo v2 settings; the rest is carried over from the BYOL configs.
# Plain BN with batches shuffled across GPUs (MoCo's shuffle BN). Without
# ConAffNeckHook this model trains exactly as mmpretrain's MoCo.
model = dict(
    type='ConNRMoCo',
    queue_len=4096,
    feat_dim=128,
    momentum=0.001,
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=512,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='GroupAwareContrastiveHead',
        loss=dict(type='GroupAwareInfoNCELoss'),
        temperature=0.2),
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
