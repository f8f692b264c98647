# Paper Table 2, row "+LN+OBD" (NMI/ACC/ARI 83.9/91.1/82.3).
# Local neighbourhoods with online boundary detection at a fixed kept
# fraction fr0 = 0.8 (no progressive relaxation: end_epoch=None).
_base_ = ['../byol_conr_cifar10.py']

model = dict(neighborhood=dict(_delete_=True, type='LocalNeighborhood', k=10))

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
