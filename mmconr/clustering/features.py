"""The whole-dataset feature pass: target features of every sample, on
every rank, that the per-epoch k-means, the evaluation and the APIs use."""
from typing import Optional, Tuple

import torch
from mmengine import dist
from mmengine.utils import ProgressBar


def batch_target_features(model, inputs, channels_last: bool = False):
    """fp32 target features of one preprocessed batch (the first view where
    ``inputs`` holds several); ``channels_last`` feeds 4-D images in that
    memory format."""
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0]
    if channels_last and inputs.dim() == 4:
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    return model.extract_target_feat(inputs).float()


def extract_dataset_features(model,
                             dataloader,
                             show_progress: bool = True,
                             amp: bool = True,
                             channels_last: bool = True,
                             block: Optional[Tuple[int, int]] = None):
    """Target features of every dataset index, distributed and padding-safe.

    Every rank embeds its share of the (non-shuffled) dataloader, scatters
    the features into an (N, D) sum by ``sample_idx`` with per-index counts,
    and both are all-reduced; samples a padded sampler visits twice are
    averaged, not double counted.

    Runs in ``torch.inference_mode`` with the model in eval mode. On CUDA,
    ``amp`` runs the forward under fp16 autocast (the features are returned
    in fp32) and ``channels_last`` feeds the images in that memory format;
    both are ignored on the CPU.

    With ``block=(start, stop)`` the loader visits only those dataset
    indices (``ContiguousShardSampler``) and nothing is reduced over the
    ranks: the rows of this rank's block, for the sharded k-means.

    Returns:
        (feats FloatTensor (N, D), gt_labels LongTensor (N,), -1 if absent);
        with ``block``, (stop - start) rows.
    """
    start, stop = block or (0, len(dataloader.dataset))
    num_samples = stop - start
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    on_cuda = device.type == 'cuda'
    feats = counts = None
    progress = ProgressBar(len(dataloader)) if (
        show_progress and dist.is_main_process()) else None
    try:
        with torch.inference_mode(), torch.autocast(
                'cuda', dtype=torch.float16, enabled=on_cuda and amp):
            gt_labels = torch.full((num_samples, ), -1, dtype=torch.long,
                                   device=device)
            for data in dataloader:
                data = model.data_preprocessor(data, False)
                batch_feats = batch_target_features(
                    model, data['inputs'], on_cuda and channels_last)
                idx = torch.tensor(
                    [s.sample_idx - start for s in data['data_samples']],
                    device=device)
                if block is not None and ((idx < 0).any()
                                          or (idx >= num_samples).any()):
                    raise RuntimeError(
                        f'the feature dataloader gave dataset indices '
                        f'outside this rank\'s block [{start}, {stop}); '
                        'use ContiguousShardSampler')
                if feats is None:
                    feats = torch.zeros(num_samples, batch_feats.shape[1],
                                        device=device)
                    counts = torch.zeros(num_samples, device=device)
                feats.index_add_(0, idx, batch_feats)
                counts.index_add_(0, idx,
                                  torch.ones_like(idx, dtype=torch.float))
                labels = [
                    int(s.gt_label.reshape(-1)[0]) if 'gt_label' in s else -1
                    for s in data['data_samples']
                ]
                gt_labels[idx] = torch.tensor(labels, device=device)
                if progress is not None:
                    progress.update()
            if block is None:
                dist.all_reduce(feats, op='sum')
                dist.all_reduce(counts, op='sum')
                dist.all_reduce(gt_labels, op='max')
    finally:
        model.train(was_training)
    if progress is not None:
        print()
    if counts is None:
        raise RuntimeError(
            f'the feature dataloader gave no batch for the {num_samples} '
            'dataset indices of this rank')
    missing = (counts == 0).nonzero().flatten()
    if block is not None:  # every rank raises, or none
        total = torch.tensor([missing.numel()], device=device)
        dist.all_reduce(total, op='sum')
        if int(total) and not missing.numel():
            raise RuntimeError('dataset indices of another rank were never '
                               'embedded (its error names them)')
    if missing.numel():
        raise RuntimeError(
            f'{missing.numel()} dataset indices were never embedded (first: '
            f'{(missing[:5] + start).tolist()}); the feature dataloader must '
            'visit the whole dataset')
    # ordinary tensors again (inference tensors refuse in-place updates)
    return feats / counts[:, None], gt_labels.clone()
