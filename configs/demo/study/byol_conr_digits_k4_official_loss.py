# The digits study (docs/demo.md): byol_conr_digits_k4.py at the official
# run's loss scale (configs/_base_/models/byol_resnet18_cifar.py): the
# head's scale_factor 0.5, group_loss_weight 0.5, the mean over all anchors
# with the filtered ones as zeros, and the official keep rule; the group
# step is 1/8 of mmconr's clean scale before the zeroed anchors.
_base_ = ['./byol_conr_digits_k4.py']

model = dict(
    group_loss_weight=0.5,
    group_loss_average='all',
    keep_rule='below_cut',
    head=dict(loss=dict(scale_factor=0.5)))
