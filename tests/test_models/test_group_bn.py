"""GroupBN: BN statistics over fixed groups of the global batch."""
import pytest
import torch
import torch.nn.functional as F

from mmconr.models.utils import GroupBatchNorm, group_layout


def reference(x, weight, bias, num_groups, eps=1e-5):
    """Rows q with q % num_groups == h normalised together, with torch's
    own batch norm."""
    out = torch.empty_like(x)
    for h in range(num_groups):
        out[h::num_groups] = F.batch_norm(x[h::num_groups], None, None,
                                          weight, bias, True, 0., eps)
    return out


@pytest.mark.parametrize('shape,group_size', [((12, 5), 2), ((12, 5), 4),
                                              ((12, 5), 12),
                                              ((8, 3, 4, 4), 2),
                                              ((8, 3, 4, 4), 4)])
def test_ghost_groups_equal_per_group_batch_norm(shape, group_size):
    torch.manual_seed(0)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    bn = GroupBatchNorm(shape[1], group_size=group_size).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    out = bn(x)
    num_groups = shape[0] // group_size
    w = bn.weight.detach().clone().requires_grad_()
    b = bn.bias.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    ref = reference(x_ref, w, b, num_groups)
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(out)
    out.backward(g)
    ref.backward(g)
    torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(bn.weight.grad, w.grad)
    torch.testing.assert_close(bn.bias.grad, b.grad)


def test_running_statistics_average_the_groups():
    torch.manual_seed(1)
    x = torch.randn(8, 3, dtype=torch.float64)
    bn = GroupBatchNorm(3, group_size=4, momentum=0.1).double()
    bn(x)
    groups = [x[0::2], x[1::2]]
    mean = torch.stack([g.mean(0) for g in groups]).mean(0)
    var = torch.stack([g.var(0, unbiased=True) for g in groups]).mean(0)
    torch.testing.assert_close(bn.running_mean, 0.1 * mean)
    torch.testing.assert_close(bn.running_var, 0.9 + 0.1 * var)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()  # evaluation uses the running statistics
    expected = (x - bn.running_mean) / torch.sqrt(bn.running_var + 1e-5)
    torch.testing.assert_close(bn(x), expected * bn.weight + bn.bias)


def test_batches_that_do_not_fit_the_group_size_are_refused():
    with pytest.raises(ValueError, match='per-process batch 6 is not a '
                       'multiple of group_size=4'):
        GroupBatchNorm(3, group_size=4)(torch.randn(6, 3))
    with pytest.raises(ValueError, match='group_size=8 cannot be formed '
                       'from per-process batches of 4 on 1 process'):
        GroupBatchNorm(3, group_size=8)(torch.randn(4, 3))
    assert group_layout(4, 8, 2) == 'ranks'
    with pytest.raises(ValueError, match='on 3 process'):
        group_layout(4, 8, 3)
    with pytest.raises(ValueError, match='group_size must be an integer'):
        GroupBatchNorm(3, group_size=1)


def test_first_group_running_statistics_are_group_zeros():
    """running_stats='first_group': the statistics of the group holding
    position 0 (rows 0, G, 2G, ...), as GPU 0's in the official run."""
    torch.manual_seed(2)
    x = torch.randn(12, 3, dtype=torch.float64)
    bn = GroupBatchNorm(3, group_size=4, momentum=0.1,
                        running_stats='first_group').double()
    bn(x)
    group = x[0::3]
    torch.testing.assert_close(bn.running_mean, 0.1 * group.mean(0))
    torch.testing.assert_close(bn.running_var,
                               0.9 + 0.1 * group.var(0, unbiased=True))
    with pytest.raises(ValueError, match='running_stats must be one of'):
        GroupBatchNorm(3, running_stats='last')


@pytest.mark.parametrize('shape', [(6, 4), (6, 3, 2, 2)])
def test_one_group_is_torch_batch_norm_with_eps_and_cumulative_average(
        shape):
    """With group_size = the batch, GroupBN is torch's BatchNorm in train
    mode: outputs with a non-default eps, and with momentum=None the
    running statistics as torch's cumulative moving average."""
    torch.manual_seed(3)
    bn = GroupBatchNorm(shape[1], eps=0.5, momentum=None,
                        group_size=shape[0]).double()
    ref = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        shape[1], eps=0.5, momentum=None).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
        ref.weight.copy_(bn.weight)
        ref.bias.copy_(bn.bias)
    for _ in range(3):
        x = 2 * torch.randn(*shape, dtype=torch.float64) + 1
        torch.testing.assert_close(bn(x), ref(x))
    torch.testing.assert_close(bn.running_mean, ref.running_mean)
    torch.testing.assert_close(bn.running_var, ref.running_var)
    assert int(bn.num_batches_tracked) == int(ref.num_batches_tracked) == 3


def test_without_running_stats_evaluation_uses_the_groups_statistics():
    """track_running_stats=False: also in eval mode each group is
    normalised with its own statistics, as torch's BatchNorm does."""
    torch.manual_seed(4)
    x = torch.randn(8, 3, dtype=torch.float64)
    bn = GroupBatchNorm(3, group_size=4, track_running_stats=False).double()
    bn.eval()
    assert bn.running_mean is None
    torch.testing.assert_close(bn(x), reference(x, bn.weight, bn.bias, 2))
    ref = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    torch.testing.assert_close(bn(x)[0::2], ref(x[0::2]))
    torch.testing.assert_close(bn(x)[1::2], ref(x[1::2]))
