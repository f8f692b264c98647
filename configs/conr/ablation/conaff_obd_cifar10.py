# Paper Table 2, row "+CnAffN+OBD" (NMI/ACC/ARI 85.7/92.5/85.1).
# ConAff neighbourhoods with online boundary detection at a fixed kept
# fraction fr0 = 0.8 (no progressive relaxation: end_epoch=None).
_base_ = ['../byol_conr_cifar10.py']

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch={{_base_.conr_start_epoch}},
        stage2_pipeline={{_base_.stage2_train_pipeline}},
        lr_mult=0.1),
    dict(
        type='BoundaryFilterHook',
        dataloader={{_base_.feature_dataloader}},
        num_clusters={{_base_.num_clusters}},
        start_epoch={{_base_.conr_start_epoch}},
        end_epoch=None,
        start_fraction={{_base_.start_fraction}},
        kmeans_cfg=dict(n_init=1, max_iter=50, spherical=True,
                        init='k-means++')),
]
