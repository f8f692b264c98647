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
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    neck=dict(
        type='MoCoV2Neck',
        in_channels=128,
        hid_channels=512,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='GroupAwareContrastiveHead',
        loss=dict(type='GroupAwareInfoNCELoss'),
        temperature=0.2),
    # the paper's 10/10/2, with which docs/demo.md's one-seed numbers were
    # measured; above the 0.75 x B/K = 4.8 of a batch of 64 (ConAffNeckHook
    # warns), and the digits study found 4/5/2 better for BYOL; not
    # re-measured for this variant
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
