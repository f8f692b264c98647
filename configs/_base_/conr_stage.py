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
# The stage's settings as top-level keys, which the hooks below read by
# name: a config that inherits this file changes the stage by setting them.
conr_start_epoch = 800  # t0 (0-based)
relax_end_epoch = 850  # T: the kept fraction reaches 1 (None: fixed fr0)
start_fraction = 0.8  # fr0
conr_lr_mult = 0.1  # lr factor from t0 on
conr_keep_group_lr_mult = False  # False: every group at the base schedule
relax_one_based = True  # the fraction from 1-based epochs (official)
feature_amp = False  # the per-epoch feature pass in fp32 on CUDA (official)
# what the per-epoch k-means clusters: 'test_pass' (the paper: a forward of
# every training image under the test pipeline) or 'train_views' (the target
# projections the group-aware steps compute anyway; BoundaryFilterHook)
boundary_features = 'test_pass'
boundary_kmeans = dict(
    n_init=10,
    max_iter=300,
    tol=1e-4,
    spherical=True,
    init='k-means++',
    init_size=None,
    centroids='mean')
custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch='conr_start_epoch',
        stage2_pipeline='stage2_train_pipeline',
        lr_mult='conr_lr_mult',
        keep_group_lr_mult='conr_keep_group_lr_mult'),
    dict(
        type='BoundaryFilterHook',
        dataloader='feature_dataloader',
        num_clusters='num_clusters',
        start_epoch='conr_start_epoch',
        end_epoch='relax_end_epoch',
        start_fraction='start_fraction',
        one_based_epochs='relax_one_based',
        amp='feature_amp',
        kmeans_cfg='boundary_kmeans',
        features='boundary_features'),
]
