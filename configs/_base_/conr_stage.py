# The ConNR stage of a 1000-epoch run (paper §4.2 and the official CIFAR-10
# config cly234/DeepClustering-ConNR `config/cifar10_r18_connr.yml`,
# docs/method.md §2 / §4, docs/reproduction.md), for any dataset config that
# defines `stage2_train_pipeline`, `feature_dataloader` and `num_clusters`
# (the hooks read those top-level keys by name):
# - epochs 800..999 (0-based) use the group-aware loss, with the stage-2 train
#   pipeline (RandomResizedCrop scale (0.45, 1), `resized_crop_scale_ft`)
#   and every param group at 0.1 x the schedule (`lr_factor` 0.1 and
#   `predict_lr_factor` 0.1 of models/connr/byol.py: the predictor's warm-up
#   x 10 is dropped);
# - before each of them, k-means (K = num_clusters) on the whole training
#   set with the official settings (torch_clustering.PyTorchKMeans,
#   k-means++, 10 inits, 300 iterations, tol 1e-4, cosine), whose
#   un-normalised cluster means give the boundary ratio; boundary samples
#   are filtered with the kept fraction 0.8 + 0.2 (epoch - 800) / 50 over
#   1-based epochs (`thresh_begin`, `epoch_end` 850), 1 from epoch 850 on;
#   the feature pass in fp32 (`amp: false`).
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
        end_epoch=850,
        start_fraction=0.8,
        one_based_epochs=True,
        amp=False,
        kmeans_cfg=dict(n_init=10, max_iter=300, tol=1e-4, spherical=True,
                        init='k-means++', init_size=None, centroids='mean')),
]
