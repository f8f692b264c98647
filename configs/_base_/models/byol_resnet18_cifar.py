# BYOL / ConNR with ResNet-18, CIFAR stem (3x3 conv stride 1, no max-pool), as
# in the paper §4.2. Projector and predictor 4096 hidden -> 256, Linear-BN-
# ReLU-Linear with biases in both Linear layers as the official BYOL wrapper
# (so that its checkpoints, converted by
# tools/model_converters/connr_to_mmconr.py, load strictly).
#
# The official run (cly234/DeepClustering-ConNR models/connr/byol_wrapper.py,
# Hzzone/ProPos models/propos/byol_wrapper.py; docs/reproduction.md):
# - BN over groups of 128 samples (its per-GPU batch on 4 GPUs, no SyncBN),
#   on any number of GPUs (GroupBN), running statistics those of GPU 0's
#   group (DDP's default broadcast_buffers hands them to every GPU); the
#   target is fed a batch shuffled
#   across GPUs (`shuffling_bn: true`) and keeps its own BN statistics (only
#   its parameters are EMA-updated, moco_wrapper.py `_momentum_update_key_
#   encoder`), after the loss's forwards, with the 1-based iteration;
# - warm-up loss 0.5 * (L1 + L2), L = -2 mean cos (ProPos byol_wrapper.py
#   `forward_loss`), i.e. mmpretrain's 2 * (L1 + L2) with scale_factor 0.5;
# - ConNR loss per view order -2 * mean over all (anchor, neighbour) pairs
#   with the filtered anchors zeroed, 0.5 * (L1 + L2), and 1/4 of its
#   gradient left by GatherLayer after DDP's average on 4 GPUs
#   (utils/gather_layer.py): with the head's scale_factor 0.5 (it applies in
#   both stages), group_loss_weight 0.5 = BYOL's 2 x that 1/4, average over
#   'all';
#   the kept anchors are those strictly below the int(fr * B)-th ratio.
# Without ConAffNeckHook this model trains as the ProPos BYOL warm-up; with
# the mmpretrain defaults of these options (ConNR docstring) it trains as
# mmpretrain's BYOL.
bn_group_size = 128
norm_cfg = dict(
    type='GroupBN', group_size=bn_group_size, running_stats='first_group')
model = dict(
    type='ConNR',
    # CosineEMA: mmengine's momentum is the weight of the new parameters,
    # 0.004 -> 0 is the official EMA 0.996 -> 1 over the whole run.
    base_momentum=0.004,
    target_buffers='own',
    shuffle_target=True,
    target_update='after_forward',
    group_loss_weight=0.5,
    group_loss_average='all',
    keep_rule='below_cut',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        norm_cfg=norm_cfg,
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
        norm_cfg=norm_cfg),
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
            norm_cfg=norm_cfg,
            # the official predictor's Linear layers start from N(0, 0.01)
            # with zero bias (ProPos models/propos/byol_wrapper.py); BN 1/0
            init_cfg=[
                dict(type='Normal', layer='Linear', std=0.01, bias=0.),
                dict(type='Constant', val=1, layer=['_BatchNorm'])
            ]),
        loss=dict(type='GroupAwareCosineLoss', scale_factor=0.5)),
    # docs/method.md §1 / paper §4.2: k, k1, k2 = 10, 10, 2.
    neighborhood=dict(type='ConAffNeighborhood', k=10, k1=10, k2=2),
)
