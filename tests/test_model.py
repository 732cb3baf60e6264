import math

import torch.utils._python_dispatch

import pytest
import torch

from resdyn.core.model import DenseResNet, ModelConfig, Trajectory


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
    with torch.no_grad():  # the recording path (in place, no autograd) computes the same bits
        assert all(torch.equal(a, b) for a, b in zip(model.trajectory(x), (states, residuals, logits)))


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


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_trajectory_with_and_without_gradients_and_into_out_agree_bitwise(shared, activation):
    model = DenseResNet(small(shared_weights=shared, width=64, activation=activation), seed=2)
    x = torch.randn(33, 64)
    with_grad = model.trajectory(x)  # autograd path: x(t+1) = x(t) + y(t+1) as a new tensor
    with torch.no_grad():
        recorded = model.trajectory(x)  # recording path: written straight into the buffer
        big = Trajectory(torch.full((50, 6, 64), 7.0), torch.full((50, 5, 64), 7.0), torch.full((50, 3), 7.0))
        rows = Trajectory(*(t[10:43] for t in big))
        returned = model.trajectory(x, out=rows)
        layer_major = Trajectory(*(t.transpose(0, 1).contiguous().transpose(0, 1) for t in big))
        into_layer_major = model.trajectory(x, out=Trajectory(*(t[10:43] for t in layer_major)))
    assert with_grad.logits.requires_grad and not recorded.logits.requires_grad
    for a, b, c in zip(with_grad, recorded, rows):
        assert torch.equal(a.detach(), b) and torch.equal(b, c)
    assert all(r is o for r, o in zip(returned, rows))  # out is what is returned
    assert torch.equal(big.states[:10], torch.full((10, 6, 64), 7.0))  # rows outside out untouched
    assert torch.equal(recorded.logits, model(x))
    for a, b in zip(recorded, into_layer_major):  # out stored sample-major (copied) or layer-major (in place)
        assert torch.equal(a, b)
    # recorded is stored layer by layer: each layer's block is contiguous, the whole is a (batch, T+1, N) view
    assert recorded.states[:, 3].is_contiguous() and recorded.states.stride() == (64, 33 * 64, 1)


def test_trajectory_gradients_flow():
    model = DenseResNet(small(), seed=0)
    x = torch.rand(4, 12, requires_grad=True)
    model.trajectory(x).residuals[:, 2].sum().backward()
    assert x.grad is not None and model.layer(2).weight.grad is not None
    later = model.layer(3).weight.grad  # later layers do not affect y(3)
    assert later is None or torch.equal(later, torch.zeros_like(later))
    assert model.layer(1).weight.grad.abs().sum() > 0


def test_trajectory_out_bad_input_messages():
    model = DenseResNet(small(), seed=0)
    x = torch.rand(4, 12)
    good = Trajectory(torch.empty(4, 6, 12), torch.empty(4, 5, 12), torch.empty(4, 3))
    with pytest.raises(ValueError, match="under torch.no_grad"):
        model.trajectory(x, out=good)
    with torch.no_grad():
        with pytest.raises(ValueError, match=r"out.residuals must have shape \(4, 5, 12\)"):
            model.trajectory(x, out=good._replace(residuals=torch.empty(4, 4, 12)))
        with pytest.raises(ValueError, match="out.logits must have shape .* dtype torch.float32"):
            model.trajectory(x, out=good._replace(logits=torch.empty(4, 3, dtype=torch.float64)))
        with pytest.raises(ValueError, match="out must be a Trajectory"):
            model.trajectory(x, out=[good.states])


class GemmShapes(torch.utils._python_dispatch.TorchDispatchMode):
    """Records (M, K, N) of every matrix product that reaches the kernels (mm and addmm)."""

    def __init__(self):
        super().__init__()
        import collections

        self.shapes = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = func.overloadpacket
        if packet in (torch.ops.aten.mm, torch.ops.aten.addmm):
            a, b = args[-2:] if packet is torch.ops.aten.addmm else args[:2]
            self.shapes[(a.shape[0], a.shape[1], b.shape[1])] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("shared", [False, True])
def test_multiply_adds_count_the_products_a_training_step_calls(shared):
    import torch.nn.functional as F

    from resdyn.core.train import TrainConfig, make_optimizer, train_step

    cfg = ModelConfig(width=12, depth=4, n_classes=3, shared_weights=shared)
    model, B = DenseResNet(cfg), 5
    x, y = torch.rand(B, 12), torch.randint(0, 3, (B,))
    with GemmShapes() as step:
        train_step(model, make_optimizer(model, TrainConfig()), x, y, lr=1e-3)
    assert cfg.multiply_adds(B) == sum(m * k * n * c for (m, k, n), c in step.shapes.items())
    with GemmShapes() as fwd, torch.no_grad():
        model(x)
    assert cfg.multiply_adds(B, training=False) == sum(m * k * n * c for (m, k, n), c in fwd.shapes.items())
    # known answer for the paper's net: 15 layers of 784, batch 1, forward
    assert ModelConfig().multiply_adds(1, training=False) == 15 * 784 * 784 + 784 * 10
    with pytest.raises(ValueError, match="batch must be an integer >= 1, got 0"):
        cfg.multiply_adds(0)


@pytest.mark.parametrize("seed", [-1, 2**31, 2**40, 1.5, True, "0"])
def test_bad_seeds_are_refused_where_they_enter(seed):
    from resdyn.core.train import TrainConfig

    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2147483647\], got"):
        TrainConfig(seed=seed)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2147483647\]"):
        DenseResNet(ModelConfig(width=4, depth=1, n_classes=2), seed=seed)


@pytest.mark.parametrize("bias", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_init_bias_is_refused(bias):
    with pytest.raises(ValueError, match="init_bias must be a finite number"):
        ModelConfig(init_bias=bias)


# -- the non-residual control (issue 19) ----------------------------------------------------------

def test_the_mlp_control_is_x_next_equals_f_of_w_x_plus_b():
    cfg = ModelConfig(width=5, depth=3, n_classes=2, residual=False, init_scale=1.0, init_bias=0.1)
    model = DenseResNet(cfg, seed=0)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    expected = x
    for t in range(3):
        expected = torch.sigmoid(expected @ model.layer(t).weight.T + model.layer(t).bias)
    with torch.no_grad():
        tr = model.trajectory(x)
        assert torch.allclose(tr.states[:, -1], expected, atol=1e-6)
        assert torch.equal(tr.states[:, 1:], tr.residuals)  # the state is the layer's output
        assert torch.equal(tr.logits, model(x))
    tr = model.trajectory(x)  # with gradients: the same values
    assert torch.allclose(tr.states[:, 1:], tr.residuals)
    assert "residual" not in ModelConfig().to_dict() and cfg.to_dict()["residual"] is False


def test_residual_must_be_a_bool():
    with pytest.raises(ValueError, match=r"residual must be True \(the paper's net\) or False \(the MLP control\), got 0"):
        ModelConfig(residual=0)
