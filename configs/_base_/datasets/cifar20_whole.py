# CIFAR-20 (CIFAR-100 superclasses), train + test (60k), as in the paper
# §4.1. Same augmentations and stage-2 crop as CIFAR-10 (cifar10_whole.py).
_base_ = ['./cifar10_whole.py']

dataset_type = 'CIFAR20'
data_root = 'data/cifar100/'
num_clusters = 20

data_preprocessor = dict(
    # CIFAR-100 statistics (0..255 scale)
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418])

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
feature_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = feature_dataloader
test_dataloader = feature_dataloader
val_evaluator = dict(num_clusters=num_clusters)
test_evaluator = val_evaluator
