# Paper Table 2, row "+LN" (NMI/ACC/ARI 81.9/89.6/78.7).
# Group-aware stage with local (cosine k-NN) neighbourhoods; no boundary
# detection (all anchors kept), hence no relaxation.
_base_ = ['../byol_conr_cifar10.py']

model = dict(neighborhood=dict(_delete_=True, type='LocalNeighborhood', k=10))

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch='conr_start_epoch',
        stage2_pipeline='stage2_train_pipeline',
        lr_mult='conr_lr_mult',
        keep_group_lr_mult='conr_keep_group_lr_mult'),
]
