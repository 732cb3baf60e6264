"""resdyn.lib.criteria: known answers for every criterion."""
import math

import pytest
import torch

from resdyn.lib import criteria
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.pruning import convergence_criterion


def orthonormal(k: int, d: int = 6, seed: int = 0) -> torch.Tensor:
    """k orthonormal vectors (k, d)."""
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q.T[:k]


def known_states() -> torch.Tensor:
    """(1, 4, d): x(1) = 3 x(0) (parallel), x(2) orthogonal to x(1), x(3) = -x(2)."""
    e = orthonormal(2)
    return torch.stack([e[0], 3 * e[0], 2 * e[1], -2 * e[1]])[None]


# -- the paper's criterion -------------------------------------------------------------------
def test_convergence_profile_known_answer():
    y = torch.arange(1, 5, dtype=torch.float64)[None, :, None] ** 2 * torch.ones(3, 4, 5, dtype=torch.float64)
    # y(t) = t^2 everywhere: |y(t) - y(t-1)| = 2t - 1
    torch.testing.assert_close(criteria.convergence_profile(y), torch.tensor([3.0, 5.0, 7.0], dtype=torch.float64))


def test_convergence_profile_agrees_with_the_pruning_criterion():
    model = DenseResNet(ModelConfig(width=16, depth=5, n_classes=3), seed=0)
    with torch.no_grad():
        r = model.trajectory(torch.rand(20, 16)).residuals
    profile = criteria.convergence_profile(r)
    assert profile.shape == (4,) and profile.dtype == torch.float64
    torch.testing.assert_close(profile[-1], convergence_criterion(r).double(), rtol=1e-6, atol=0)
    torch.testing.assert_close(profile[1], convergence_criterion(r[:, :3]).double(), rtol=1e-6, atol=0)
    conv = r.reshape(20, 5, 4, 4)  # any block shape: flattened per layer
    torch.testing.assert_close(criteria.convergence_profile(conv), profile)


# -- Block Influence and angular distance ---------------------------------------------------------
def test_block_influence_known_answer():
    torch.testing.assert_close(criteria.block_influence(known_states()), torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))


def test_block_influence_per_token_averages_token_cosines():
    e = orthonormal(2, d=4)
    x0 = torch.stack([e[0], e[0]])  # two tokens
    x1 = torch.stack([5 * e[0], e[1]])  # token 0 keeps its direction, token 1 turns by 90 degrees
    states = torch.stack([x0, x1])[None]  # (1, 2, tokens, d)
    torch.testing.assert_close(criteria.block_influence(states, per_token=True), torch.tensor([0.5], dtype=torch.float64))
    flat = 1 - 5 / (math.sqrt(2) * math.sqrt(26))  # one cosine of the flattened tokens
    torch.testing.assert_close(criteria.block_influence(states), torch.tensor([flat], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"per_token=True needs states \(n, T\+1, tokens, d\)"):
        criteria.block_influence(states[:, :, 0], per_token=True)


def test_angular_distance_and_best_span():
    states = known_states()
    torch.testing.assert_close(criteria.angular_distance(states, 1), torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64))
    torch.testing.assert_close(criteria.angular_distance(states, 2), torch.tensor([0.5, 0.5], dtype=torch.float64))
    choice = criteria.best_drop_span(states, 1)
    assert (choice.start, choice.blocks, choice.distance) == (0, (0,), 0.0)
    # a 2-span: both starts tie at 1/2; the shallowest wins
    assert criteria.best_drop_span(states, 2).blocks == (0, 1)
    later = torch.cat([states[:, :1], states[:, 2:], states[:, 3:4] * 7], dim=1)  # 0.5, 1, then 0 at l = 2
    assert criteria.best_drop_span(later, 1).start == 2
    with pytest.raises(ValueError, match=r"span must be an integer in \[1, 3\] for 3 blocks, got 4"):
        criteria.angular_distance(states, 4)


def test_cosines_average_over_samples():
    a, b = known_states(), known_states()
    b[:, 1] = -b[:, 0]  # sample 2: block 1 reverses its input
    states = torch.cat([a, b])
    torch.testing.assert_close(criteria.block_influence(states)[0], torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(criteria.angular_distance(states, 1)[0], torch.tensor(0.5, dtype=torch.float64))


# -- CKA ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, p", [(50, 8), (8, 50)])  # features and Gram form
def test_linear_cka_known_answers(n, p):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, p, generator=g, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(p, p, generator=g, dtype=torch.float64))
    torch.testing.assert_close(criteria.linear_cka(x, x), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(criteria.linear_cka(x, 3.5 * x @ q + 2.0), torch.tensor(1.0, dtype=torch.float64))
    x1 = x[:, :1]  # a rank-1 representation against its own first feature: CKA 1
    torch.testing.assert_close(criteria.linear_cka(x1, 2 * x1), torch.tensor(1.0, dtype=torch.float64))


def test_linear_cka_of_independent_matrices_is_small_and_matches_the_formula():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(2000, 5, generator=g), torch.randn(2000, 7, generator=g)
    assert float(criteria.linear_cka(x, y)) < 0.01
    x, y = torch.randn(30, 4, generator=g).double(), torch.randn(30, 3, generator=g).double()
    xc, yc = x - x.mean(0), y - y.mean(0)
    expected = (yc.T @ xc).norm() ** 2 / ((xc.T @ xc).norm() * (yc.T @ yc).norm())
    torch.testing.assert_close(criteria.linear_cka(x, y), expected)
    torch.testing.assert_close(criteria.linear_cka(x.reshape(30, 2, 2), y), expected)  # flattened
    with pytest.raises(ValueError, match="x and y must hold the same samples, got n = 30 and 29"):
        criteria.linear_cka(x, y[:29])


def test_cka_profile_of_a_trajectory():
    g = torch.Generator().manual_seed(2)
    x0, r = (torch.randn(40, 6, generator=g, dtype=torch.float64) for _ in range(2))
    profile = criteria.cka_profile(torch.stack([x0, r, 2 * r], dim=1))  # independent, then scaled
    assert profile.shape == (2,) and float(profile[0]) < 0.5
    torch.testing.assert_close(profile[1], torch.tensor(1.0, dtype=torch.float64))


# -- relative residual size -------------------------------------------------------------------
def test_relative_residual_known_answer():
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(5, 2, 3, 3, generator=g)  # conv-shaped states
    residuals = torch.stack([0.5 * x0, -0.25 * 1.5 * x0], dim=1)  # y(1) = x(0)/2; y(2) = -x(1)/4
    states = torch.stack([x0, 1.5 * x0, 1.5 * 0.75 * x0], dim=1)
    torch.testing.assert_close(criteria.relative_residual(states, residuals),
                               torch.tensor([0.5, 0.25], dtype=torch.float64))
    with pytest.raises(ValueError, match="do not match"):
        criteria.relative_residual(states, residuals[:, :1])


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"residuals must be a tensor \(n, T, \*shape\).*at least 2.*got \(4, 1, 3\)"):
        criteria.convergence_profile(torch.zeros(4, 1, 3))
    with pytest.raises(ValueError, match=r"states must be a tensor \(n, T\+1, \*shape\).*got \(4, 3\)"):
        criteria.block_influence(torch.zeros(4, 3))
