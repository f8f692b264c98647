# The ConNR stage of a 1000-epoch run (paper §4.2 and the official CIFAR-10
# config, docs/method.md §2 / §4), for any dataset config that defines
# `stage2_train_pipeline`, `feature_dataloader` and `num_clusters` (the hooks
# read those top-level keys by name):
# - epochs 800..999 (0-based) use the group-aware loss, with the stage-2 train
#   pipeline (RandomResizedCrop scale (0.45, 1)) and the lr x 0.1;
# - before each of them, k-means (K = num_clusters, cosine, k-means++ init)
#   on the whole training set; boundary samples are filtered with the kept
#   fraction fr0 = 0.8 relaxed to 1 at epoch 850.
custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch=800,
        stage2_pipeline='stage2_train_pipeline',
        lr_mult=0.1),
    dict(
        type='BoundaryFilterHook',
        dataloader='feature_dataloader',
        num_clusters='num_clusters',
        start_epoch=800,
        end_epoch=850,
        start_fraction=0.8,
        kmeans_cfg=dict(n_init=1, max_iter=50, spherical=True,
                        init='k-means++')),
]
