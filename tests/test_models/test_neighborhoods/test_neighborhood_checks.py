import pytest
import torch

from mmconr.models.neighborhoods import ConAffNeighborhood, conaff_neighbors


@pytest.mark.parametrize('kwargs,match', [
    (dict(k=11, k1=10, k2=2), 'k=11 is larger than the'),
    (dict(k=5, k1=11, k2=2), 'k1=11 is larger than the'),
    (dict(k=5, k1=5, k2=6), 'k2=6 must not exceed k1=5'),
    (dict(k=0, k1=5, k2=2), 'k must be a positive integer, got 0'),
])
def test_conaff_argument_errors_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        conaff_neighbors(torch.randn(10, 4), **kwargs)


def test_method_argument_is_checked():
    with pytest.raises(ValueError, match="got 'fast'"):
        conaff_neighbors(torch.randn(10, 4), 3, 3, 2, method='fast')
    with pytest.raises(ValueError, match="got 'fast'"):
        ConAffNeighborhood(method='fast')
