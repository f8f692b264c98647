# MoCo v2 + ConNR* (paper Eq. 17) on the digits demo: the data, backbone,
# schedule and ConNR stage of byol_conr_digits.py with MoCo v2 instead of
# BYOL (MLP projection head 512 -> 128, temperature 0.2, a queue of 512 keys
# for 1,797 images, key-encoder momentum 0.99 for this short run).
_base_ = ['./byol_conr_digits.py']

model = dict(
    _delete_=True,
    type='ConNRMoCo',
    queue_len=512,
    feat_dim=128,
    momentum=0.01,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=False),
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        stem_channels=16,
        base_channels=16,
        norm_cfg=dict(type='BN')),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=128,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='GroupAwareContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2),
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
