# Paper Table 2, row "+CnAffN" (NMI/ACC/ARI 84.6/91.1/82.4).
# Group-aware stage with ConAff neighbourhoods; no boundary detection (the
# stage hook of configs/_base_/conr_stage.py without BoundaryFilterHook).
_base_ = ['../byol_conr_cifar10.py']

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch='conr_start_epoch',
        stage2_pipeline='stage2_train_pipeline',
        lr_mult='conr_lr_mult',
        keep_group_lr_mult='conr_keep_group_lr_mult'),
]
