import math

import pytest
import torch

from resdyn.model import DenseResNet, ModelConfig


def small(**kw):
    return ModelConfig(**{"width": 12, "depth": 5, "n_classes": 3, **kw})


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_trajectory_identity_and_shapes(shared, activation):
    model = DenseResNet(small(shared_weights=shared, activation=activation), seed=1)
    x = torch.rand(7, 12)
    states, residuals, logits = model.trajectory(x)
    assert states.shape == (7, 6, 12) and residuals.shape == (7, 5, 12) and logits.shape == (7, 3)
    assert torch.equal(states[:, 0], x)  # states[:, 0] is the input
    assert torch.equal(states[:, 1:], states[:, :-1] + residuals)  # x(t+1) = x(t) + y(t+1), exactly
    assert torch.equal(logits, model(x))  # the trajectory's read-out is forward's
    assert torch.equal(logits, model.readout(states[:, -1]))


def test_residual_is_the_activation_of_the_affine_map():
    model = DenseResNet(small(), seed=0)
    x = torch.rand(4, 12)
    states, residuals, _ = model.trajectory(x)
    for t in range(model.depth):
        expected = torch.sigmoid(states[:, t] @ model.layer(t).weight.T + model.layer(t).bias)
        torch.testing.assert_close(residuals[:, t], expected, rtol=0, atol=1e-6)


def test_a_layer_with_zero_residual_changes_nothing():
    model = DenseResNet(small(activation="relu"), seed=0)
    with torch.no_grad():
        model.layer(2).weight.zero_()
        model.layer(2).bias.fill_(-1.0)  # relu(-1) = 0 for every input
    states, residuals, _ = model.trajectory(torch.rand(5, 12))
    assert torch.equal(residuals[:, 2], torch.zeros(5, 12))
    assert torch.equal(states[:, 3], states[:, 2])


def test_parameter_counts_shared_vs_separate():
    N, T, C = 784, 15, 10
    sep = DenseResNet(ModelConfig(width=N, depth=T, shared_weights=False))
    shared = DenseResNet(ModelConfig(width=N, depth=T, shared_weights=True))
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert count(sep) == T * (N * N + N) + (N * C + C)
    assert count(shared) == (N * N + N) + (N * C + C)
    assert all(shared.layer(t) is shared.layer(0) for t in range(T))


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = (DenseResNet(small(), seed=s) for s in (3, 3, 4))
    for (na, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        assert torch.equal(pa, pb), na
        assert not torch.equal(pa, pc), na


def test_init_scale_sets_weight_std_and_bias():
    model = DenseResNet(ModelConfig(width=400, depth=2, init_scale=0.5, init_bias=-1.0), seed=0)
    w = model.layer(0).weight
    assert abs(w.std().item() - 0.5 / math.sqrt(400)) < 0.01 * 0.5 / math.sqrt(400) * 10
    assert torch.equal(model.layer(1).bias, torch.full((400,), -1.0))
    default = DenseResNet(ModelConfig(width=400, depth=1), seed=0).layer(0).weight
    assert default.abs().max() <= 1 / math.sqrt(400)


@pytest.mark.parametrize("shared", [False, True])
def test_truncated_returns_new_model_and_leaves_original_intact(shared):
    model = DenseResNet(small(shared_weights=shared), seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(3, 12)
    full = model.trajectory(x)
    short = model.truncated(3)
    assert short is not model and short.depth == 3 and model.depth == 5
    assert model.config.depth == 5 and len(model.blocks) == (1 if shared else 5)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    s = short.trajectory(x)
    assert torch.equal(s.states, full.states[:, :4])  # the kept layers compute exactly the same
    with torch.no_grad():  # the copy does not share storage with the original
        short.layer(0).weight.add_(1.0)
    assert torch.equal(model.layer(0).weight, before["blocks.0.weight"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depth": 0}, "depth must be an integer >= 1, got 0"),
        ({"width": -3}, "width must be an integer >= 1"),
        ({"activation": "gelu"}, 'Invalid activation "gelu". Must be one of'),
        ({"init_scale": -1.0}, "init_scale must be None or a finite number >= 0"),
    ],
)
def test_bad_config_raises_with_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**kwargs)


def test_width_mismatch_names_the_fix():
    model = DenseResNet(small())
    with pytest.raises(ValueError, match=r"shape \(batch, 12\).*ModelConfig\(width=64\)"):
        model(torch.rand(2, 64))
    with pytest.raises(ValueError, match=r"depth must be an integer in \[1, 5\]"):
        model.truncated(6)
