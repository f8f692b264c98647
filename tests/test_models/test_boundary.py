import math

import pytest
import torch

from mmconr.models.boundary import (boundary_ratio, keep_mask, num_kept,
                                    relaxed_fraction)


def test_boundary_ratio_matches_formula():
    torch.manual_seed(0)
    feats = torch.randn(50, 6)
    centroids = torch.nn.functional.normalize(torch.randn(4, 6), dim=1)
    labels = torch.randint(0, 4, (50, ))
    ratios = boundary_ratio(feats, centroids, labels)
    for i in range(50):
        z = feats[i] / feats[i].norm()
        dists = [float((z - c).norm()) for c in centroids]
        d_in = dists[labels[i]]
        d_near = min(d for j, d in enumerate(dists) if j != labels[i])
        expected = 1 - (d_near - d_in) / max(d_in, d_near)
        assert math.isclose(float(ratios[i]), expected, abs_tol=1e-5)


def test_boundary_ratio_extremes():
    centroids = torch.tensor([[1., 0.], [0., 1.]])
    feats = torch.tensor([[1., 0.], [1., 1.], [0., 1.]])
    ratios = boundary_ratio(feats, centroids, torch.tensor([0, 0, 0]))
    assert ratios[0] == pytest.approx(0.0, abs=1e-6)  # at its centre
    assert ratios[1] == pytest.approx(1.0, abs=1e-6)  # half-way
    assert ratios[2] == pytest.approx(2.0, abs=1e-6)  # at the other centre


def test_boundary_ratio_errors():
    with pytest.raises(ValueError, match='K >= 2'):
        boundary_ratio(torch.randn(3, 2), torch.randn(1, 2),
                       torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 2\)'):
        boundary_ratio(torch.randn(3, 2), torch.randn(2, 2),
                       torch.tensor([0, 2, 1]))


@pytest.mark.parametrize('epoch,expected', [(800, 0.8), (810, 0.84),
                                            (825, 0.9), (850, 1.0),
                                            (900, 1.0), (700, 0.8)])
def test_relaxed_fraction_schedule(epoch, expected):
    assert relaxed_fraction(epoch, 800, 850, 0.8) == pytest.approx(expected)


def test_relaxation_off_and_bad_fraction():
    assert relaxed_fraction(900, 800, None, 0.7) == 0.7
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=f'got {bad}'):
            relaxed_fraction(800, 800, 850, bad)
    with pytest.raises(ValueError, match='end_epoch=800 must be larger'):
        relaxed_fraction(800, 800, 800, 0.8)


def test_keep_mask_keeps_ceil_fraction_smallest():
    torch.manual_seed(0)
    ratios = torch.rand(37)
    for fraction in (0.1, 0.5, 0.8, 0.81, 1.0):
        mask = keep_mask(ratios, fraction)
        n = math.ceil(fraction * 37 - 1e-9)
        assert int(mask.sum()) == n
        kept, dropped = ratios[mask], ratios[~mask]
        if dropped.numel():
            assert kept.max() <= dropped.min()
    # float noise: 0.07 * 100 = 7.000000000000001 must keep 7, not 8
    assert num_kept(0.07, 100) == 7
    assert int(keep_mask(torch.rand(100), 0.07).sum()) == 7
    with pytest.raises(ValueError, match='fraction must lie in'):
        keep_mask(ratios, 0.0)


@pytest.mark.parametrize('epoch,expected', [(800, 0.804), (809, 0.84),
                                            (848, 0.996), (849, 1.0),
                                            (900, 1.0)])
def test_relaxed_fraction_one_based_is_the_official_schedule(epoch, expected):
    # connr/byol.py: thresh_begin + (1 - thresh_begin) * (cur_epoch -
    # resume_epoch) / (epoch_end - resume_epoch), cur_epoch = epoch + 1
    official = 0.8 + (1 - 0.8) * (epoch + 1 - 800) / (850 - 800)
    official = min(official, 1.0)
    assert official == pytest.approx(expected)
    assert relaxed_fraction(epoch, 800, 850, 0.8, one_based=True) == official


@pytest.mark.parametrize('fraction', [0.804, 0.84, 0.9, 1.0])
@pytest.mark.parametrize('size', [16, 512])
def test_keep_mask_below_cut_is_the_official_filter(fraction, size):
    torch.manual_seed(size)
    ratios = torch.rand(size)
    # connr/byol_wrapper.py: cut = sorted[int(thresh * B) - 1]; keep < cut
    ordered = sorted(ratios.tolist())
    cut = ordered[int(fraction * size) - 1]
    expected = torch.tensor([r < cut for r in ratios.tolist()])
    mask = keep_mask(ratios, fraction, rule='below_cut')
    assert torch.equal(mask, expected)
    assert int(mask.sum()) == int(fraction * size) - 1
    with pytest.raises(ValueError, match="keep rule must be one of"):
        keep_mask(ratios, fraction, rule='floor')


def test_boundary_ratio_is_finite_for_duplicate_centres():
    """A sample sitting on two identical centres (d_in = d_near = 0, e.g.
    a duplicated k-means centre) lies on their boundary: ratio 1, not the
    NaN of 0 / 0."""
    centroids = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    feats = torch.tensor([[2., 0.], [0., 3.]])
    ratios = boundary_ratio(feats, centroids, torch.tensor([0, 2]))
    assert torch.isfinite(ratios).all()
    assert ratios[0] == pytest.approx(1.0)
    assert ratios[1] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('fraction,size', [(0.07, 100), (0.14, 100),
                                           (0.28, 100), (0.55, 100),
                                           (0.56, 100), (0.804, 512),
                                           (0.3, 10), (1.0, 37)])
def test_num_kept_is_the_exact_ceil_despite_float_noise(fraction, size):
    """ceil(fraction * B) of the decimal fraction as written in a config:
    0.07 * 100 is 7.000000000000001 in floats, and must keep 7 anchors."""
    from fractions import Fraction
    exact = math.ceil(Fraction(str(fraction)) * size)
    assert num_kept(fraction, size) == exact
    torch.manual_seed(size)
    assert int(keep_mask(torch.rand(size), fraction).sum()) == exact
