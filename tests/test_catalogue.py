"""Exact answers of the analytic nets in catalogue.py, for the model, the dynamics statistics and pruning."""
import pytest
import torch
from catalogue import CONSTANT_CASES, bias_ladder, constant_bias, input_then_constant, saturated

from resdyn.core.dynamics import class_residual_stats, collect_trajectory, settling_layer, trajectory_distances
from resdyn.core.pruning import AdaptiveDepthConfig, check_depth, depth_criterion, remove_last_layers


def inputs(n=12, width=6, seed=0):
    return torch.rand(n, width, generator=torch.Generator().manual_seed(seed))


def labels(n=12):
    return torch.arange(n) % 3


@pytest.mark.parametrize("make", CONSTANT_CASES)
def test_input_independent_residuals_are_known(make):
    case = make()
    width = case.model.config.width
    x = inputs(width=width)
    states, residuals, _ = case.model.trajectory(x)
    torch.testing.assert_close(residuals, case.residuals.expand(len(x), -1, -1), rtol=0, atol=1e-7)
    # x(T) = x(0) + sum_t y(t), the same shift for every input
    torch.testing.assert_close(states[:, -1], x + case.residuals.sum(0), rtol=0, atol=1e-6)


def test_constant_bias_gives_x_T_equal_x0_plus_T_sigma_b():
    case = constant_bias(width=6, depth=4, bias=0.3)
    x = inputs(width=6)
    states = case.model.trajectory(x).states
    assert torch.allclose(states[:, -1], x + 4 * torch.sigmoid(torch.tensor(0.3)), atol=1e-6)


def test_saturated_net_adds_exactly_one_per_layer():
    x = inputs(width=6)
    states = saturated().model.trajectory(x).states
    expected = x
    for t in range(6):  # x(t) = x(t-1) + 1, in float32 as the net adds it
        assert torch.equal(states[:, t], expected)
        expected = expected + 1


@pytest.mark.parametrize("make", CONSTANT_CASES)
def test_statistics_of_input_independent_residuals(make):
    case = make()
    x, y = inputs(width=case.model.config.width), labels()
    residuals = collect_trajectory(case.model, x).residuals
    s = class_residual_stats(residuals, y)
    assert torch.equal(s.std, torch.zeros_like(s.std))  # the same residual for every sample
    expected_change = (case.residuals[1:] - case.residuals[:-1]).abs().mean(1)
    torch.testing.assert_close(s.change_profile, expected_change, rtol=0, atol=1e-7)
    assert settling_layer(s.std_profile) is None  # no spread at all: nothing is below 5 % of a peak of 0
    d = trajectory_distances(residuals, y)
    assert torch.equal(d.distances, torch.zeros_like(d.distances))


def test_bias_ladder_change_profile_per_neuron_and_class():
    # per neuron i the biases differ, so a statistic averaged over the wrong axis would differ
    case = bias_ladder()
    x, y = inputs(n=9, width=4), torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2])
    s = class_residual_stats(collect_trajectory(case.model, x).residuals, y)
    r = case.residuals
    expected = torch.stack([(r[t + 1] - r[t]).abs().mean() for t in range(len(r) - 1)])
    torch.testing.assert_close(s.change_profile, expected, rtol=0, atol=1e-7)
    assert s.change_profile[2] == 0  # layers 3 and 4 have the same biases
    torch.testing.assert_close(s.mean.mean(dim=2), r.mean(1).expand(3, -1), rtol=0, atol=1e-7)


def test_input_then_constant_settles_from_layer_two():
    case = input_then_constant(width=5, depth=4)
    x, y = inputs(n=30, width=5), labels(30)
    s = class_residual_stats(collect_trajectory(case.model, x).residuals, y)
    assert (s.std_profile[0] > 0.01) and torch.equal(s.std_profile[1:], torch.zeros(3))
    assert settling_layer(s.std_profile) == 2


def test_criterion_of_the_ladder_is_the_last_change():
    case = bias_ladder()
    x = inputs(n=7, width=4)
    r = case.residuals
    for depth in range(2, len(r) + 1):
        cut = case.model.truncated(depth)
        assert depth_criterion(cut, x) == pytest.approx(float((r[depth - 1] - r[depth - 2]).abs().mean()), abs=1e-7)


def test_check_depth_removes_exactly_while_the_criterion_is_below():
    # ladder changes: |sigma(b4) - sigma(b3)| = 0 (layers 3, 4 equal) and layer 5 differs from 4
    case = bias_ladder(biases=(-2.0, 0.5, 0.5, 0.5, 0.5))
    x = inputs(n=7, width=4)
    cfg = AdaptiveDepthConfig(threshold=1e-6, min_depth=2, max_removals_per_check=10)
    check = check_depth(case.model, x, cfg, epoch=1)
    assert check.criterion == 0.0
    assert check.model.depth == 2  # 5 -> 4 -> 3 -> 2: then min_depth stops it
    assert [r.removed_layers for r in check.removed] == [(5,), (4,), (3,)]
    stop = AdaptiveDepthConfig(threshold=1e-6, min_depth=2, max_removals_per_check=10)
    ladder = check_depth(bias_ladder(biases=(-2.0, 0.5, 0.5, 2.0)).model, x, stop)
    assert ladder.model.depth == 4 and ladder.removed == []  # y(4) differs from y(3): nothing removed
    one = check_depth(case.model, x, AdaptiveDepthConfig(threshold=1e-6, max_removals_per_check=1))
    assert one.model.depth == 4 and case.model.depth == 5  # one per check; the input net is untouched


def test_folding_input_independent_layers_is_exact():
    case = input_then_constant(width=5, depth=4)
    x = inputs(n=20, width=5)
    for k in (1, 2):
        folded, record = remove_last_layers(case.model, k, fold_probe=x[:3])
        assert record.folded_bias
        torch.testing.assert_close(folded(x), case.model(x), rtol=0, atol=1e-5)
