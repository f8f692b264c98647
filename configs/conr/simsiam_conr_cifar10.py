# SimSiam + ConNR* on CIFAR-10 (paper Table 4: NMI/ACC/ARI 85.2/91.4/83.6).
# The plug-in of paper §A.2 (Eq. 16): the ConNR stage of
# byol_conr_cifar10.py (t0 = 800 of 1000 epochs, k/k1/k2 = 10/10/2, fr0 = 0.8 -> 1
# at epoch 850, lr x 0.1 and crop (0.45, 1) from t0) on top of the plain
# SimSiam baseline configs/simsiam/simsiam_resnet18_cifar10.py.
_base_ = ['../simsiam/simsiam_resnet18_cifar10.py']

conr_start_epoch = 800
relax_end_epoch = 850
start_fraction = 0.8

custom_hooks = [
    dict(
        type='ConAffNeckHook',
        start_epoch=conr_start_epoch,
        stage2_pipeline={{_base_.stage2_train_pipeline}},
        # lr x 0.1 from t0 (official ConNR stage), on top of the cosine
        # schedule, which is kept identical to the BYOL baseline's so that an
        # epoch-800 baseline checkpoint resumes into this config.
        lr_mult=0.1),
    dict(
        type='BoundaryFilterHook',
        dataloader={{_base_.feature_dataloader}},
        num_clusters={{_base_.num_clusters}},
        start_epoch=conr_start_epoch,
        end_epoch=relax_end_epoch,
        start_fraction=start_fraction,
        # Official: k-means every epoch, cosine metric, k-means++ init.
        kmeans_cfg=dict(n_init=1, max_iter=50, spherical=True,
                        init='k-means++')),
]
