"""NMI, ACC (Hungarian matching) and purity against sklearn, scipy and
counts written out."""
import itertools

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from mmconr.evaluation import cluster_metrics, cluster_purity


def brute_force_acc(gt, pred):
    classes = sorted(set(gt))
    clusters = sorted(set(pred))
    best = 0
    for perm in itertools.permutations(classes, len(clusters)):
        mapping = dict(zip(clusters, perm))
        best = max(best, sum(mapping[p] == g for p, g in zip(pred, gt)))
    return best / len(gt)


def test_cluster_metrics_against_sklearn_and_brute_force():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 5, 300)
    swap = rng.random(300) < 0.6
    pred = np.where(swap, (gt + 2) % 5, rng.integers(0, 5, 300))
    scores = cluster_metrics(gt, pred)
    assert scores['nmi'] == pytest.approx(
        normalized_mutual_info_score(gt, pred))
    assert scores['ari'] == pytest.approx(adjusted_rand_score(gt, pred))
    assert scores['acc'] == pytest.approx(brute_force_acc(gt, pred))
    assert 0.5 < scores['acc'] < 0.8


def test_cluster_metrics_ignore_negative_labels():
    gt = np.array([0, 0, 1, 1, -1, -1, 2, 2])
    pred = np.array([1, 1, 0, 0, 2, 2, 2, 2])
    scores = cluster_metrics(gt, pred)
    assert scores['acc'] == 1.0 and scores['nmi'] == pytest.approx(1.0)
    assert cluster_metrics(torch.tensor(gt), torch.tensor(pred)) == scores
    with pytest.raises(ValueError, match='no sample has a ground-truth'):
        cluster_metrics([-1, -1], [0, 1])
    with pytest.raises(ValueError, match='3 entries but pred_labels has 2'):
        cluster_metrics([0, 1, 1], [0, 1])


def test_cluster_purity():
    assert cluster_purity([0, 0, 1, 1, 1], [5, 5, 5, 7, 7]) == pytest.approx(
        4 / 5)


def hungarian_acc(gt, pred):
    """ACC with scipy's assignment on a contingency table built here."""
    from scipy.optimize import linear_sum_assignment
    classes, clusters = sorted(set(gt)), sorted(set(pred))
    table = np.zeros((len(clusters), len(classes)))
    for g, p in zip(gt, pred):
        table[clusters.index(p), classes.index(g)] += 1
    rows, cols = linear_sum_assignment(table, maximize=True)
    return table[rows, cols].sum() / len(gt)


@pytest.mark.parametrize('gt,pred', [
    # both clusters are mostly class 0: mapping each to its majority class
    # (greedy argmax, many-to-one) scores 6/8, the one-to-one match 4/8
    ([0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 1, 1, 1, 1]),
    # the largest cell first (greedy one-to-one) scores 5/13, Hungarian 8/13
    ([0] * 5 + [1] * 4 + [0] * 4, [0] * 5 + [0] * 4 + [1] * 4),
])
def test_cluster_accuracy_is_a_one_to_one_hungarian_match(gt, pred):
    acc = cluster_metrics(gt, pred)['acc']
    assert acc == pytest.approx(hungarian_acc(gt, pred))
    assert acc == pytest.approx(brute_force_acc(gt, pred))
    assert acc < cluster_purity(gt, pred)


def test_cluster_purity_against_a_per_cluster_majority_count():
    from collections import Counter

    def reference(gt, pred):
        return sum(
            Counter(g for g, p in zip(gt, pred)
                    if p == c).most_common(1)[0][1]
            for c in set(pred)) / len(gt)

    # more clusters than classes: every cluster is pure
    assert cluster_purity([0, 0, 0, 0, 1, 1], [0, 0, 1, 1, 2, 2]) == 1.0
    rng = np.random.default_rng(3)
    for n_classes, n_clusters in ((3, 7), (6, 2), (4, 4)):
        gt = rng.integers(0, n_classes, 200)
        pred = rng.integers(0, n_clusters, 200)
        assert cluster_purity(gt, pred) == pytest.approx(reference(gt, pred))


def test_cluster_metrics_count_class_zero_as_labelled():
    """Only negative labels mean unlabelled: class 0 is scored."""
    gt = np.array([0, 0, 0, 1, 1, -1, -1])
    pred = np.array([0, 0, 1, 1, 1, 0, 1])
    scores = cluster_metrics(gt, pred)
    gt, pred = gt[:5], pred[:5]
    assert scores['acc'] == pytest.approx(brute_force_acc(gt, pred)) == 0.8
    assert scores['nmi'] == pytest.approx(
        normalized_mutual_info_score(gt, pred))
    assert scores['ari'] == pytest.approx(adjusted_rand_score(gt, pred))


def test_nmi_is_mutual_information_over_the_mean_entropy():
    """NMI = I(gt; pred) / ((H(gt) + H(pred)) / 2), from the counts, on a
    case whose two entropies differ (there the arithmetic, geometric,
    min and max normalisations all differ)."""
    gt = np.array([0] * 8 + [1] * 8)
    pred = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 1])
    n = len(gt)

    def entropy(labels):
        p = np.unique(labels, return_counts=True)[1] / n
        return -(p * np.log(p)).sum()

    mi = 0.0
    for g in set(gt):
        for c in set(pred):
            joint = np.sum((gt == g) & (pred == c)) / n
            if joint:
                mi += joint * np.log(
                    joint / (np.mean(gt == g) * np.mean(pred == c)))
    expected = mi / ((entropy(gt) + entropy(pred)) / 2)
    assert cluster_metrics(gt, pred)['nmi'] == pytest.approx(expected)


@pytest.mark.parametrize('num_classes, num_clusters', [(3, 2), (3, 3),
                                                       (2, 4)])
def test_matched_confusion_against_brute_force(num_classes, num_clusters):
    from itertools import permutations

    from mmconr.evaluation import matched_confusion
    rng = np.random.RandomState(num_classes * 10 + num_clusters)
    gt = rng.randint(0, num_classes, 60)
    pred = rng.randint(0, num_clusters, 60) + 5  # ids need not start at 0
    gt[:3] = -1  # unlabelled: left out
    matrix, classes, order, matched = matched_confusion(gt, pred)
    keep = gt >= 0
    for r, cls in enumerate(classes):
        for c, cluster in enumerate(order):
            assert matrix[r, c] == np.sum((gt == cls) & (pred == cluster))
    # the matched cells: the best one-to-one total of any assignment
    best = 0
    small, large = sorted((num_classes, num_clusters))
    for perm in permutations(range(large), small):
        pairs = zip(range(small), perm) if num_classes <= num_clusters \
            else zip(perm, range(small))
        best = max(best, sum(matrix[r, c] for r, c in pairs))
    columns = np.flatnonzero(matched >= 0)
    assert len(columns) == small
    assert len(set(matched[columns])) == small  # one cluster per class
    assert matrix[matched[columns], columns].sum() == best
    assert best / keep.sum() == pytest.approx(
        cluster_metrics(gt, pred)['acc'])
