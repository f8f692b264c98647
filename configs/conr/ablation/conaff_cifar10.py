# Paper Table 2, row "+CnAffN" (NMI/ACC/ARI 84.6/91.1/82.4).
# Group-aware stage with ConAff neighbourhoods; no boundary detection.
_base_ = ['../byol_conr_cifar10.py']

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch=800,
        stage2_pipeline='stage2_train_pipeline',
        lr_mult=0.1,
        keep_group_lr_mult=False),
]
