# MoCo v2 + ConNR* on ImageNet-10 (not reported in the paper: the ConNR stage
# settings are carried over from the BYOL config, not published). The plug-in
# of paper §A.2 (Eq. 17): the ConNR stage of byol_conr_imagenet10.py (t0 = 800
# of 1000 epochs, k/k1/k2 = 10/10/2, fr0 = 0.8 -> 1 at epoch 850, lr x 0.1 and
# crop (0.45, 1) from t0) on top of the plain MoCo v2 baseline
# configs/mocov2/mocov2_resnet34_imagenet10.py.
_base_ = ['../mocov2/mocov2_resnet34_imagenet10.py', '../_base_/conr_stage.py']
