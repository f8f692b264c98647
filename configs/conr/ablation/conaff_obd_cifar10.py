# Paper Table 2, row "+CnAffN+OBD" (NMI/ACC/ARI 85.7/92.5/85.1).
# ConAff neighbourhoods with online boundary detection at a fixed kept
# fraction fr0 = 0.8 (no progressive relaxation: end_epoch=None).
_base_ = ['../byol_conr_cifar10.py']

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch=800,
        stage2_pipeline='stage2_train_pipeline',
        lr_mult=0.1,
        keep_group_lr_mult=False),
    dict(
        type='BoundaryFilterHook',
        dataloader='feature_dataloader',
        num_clusters='num_clusters',
        start_epoch=800,
        end_epoch=None,
        start_fraction=0.8,
        kmeans_cfg=dict(n_init=10, max_iter=300, tol=1e-4, spherical=True,
                        init='k-means++', init_size=None, centroids='mean')),
]
