"""A catalogue of analytic nets with exact answers, shared by the model, dynamics and pruning tests
(after torchdiffeq's test problems). Each function returns a net and what it must give.

Notation: sigma is the logistic function; W(t), b(t) layer t's weights and bias (1-based t);
y(t) = sigma(W(t) x(t-1) + b(t)); x(t) = x(t-1) + y(t).
"""
from dataclasses import dataclass

import torch

from resdyn.core.model import DenseResNet, ModelConfig


@dataclass
class Case:
    name: str
    model: DenseResNet
    residuals: torch.Tensor | None  # (T, N) when y(t) is the same for every input, else None
    note: str


def _net(width, depth, shared, n_classes=3, seed=0):
    return DenseResNet(ModelConfig(width=width, depth=depth, n_classes=n_classes, shared_weights=shared,
                                   init_scale=0.1, init_bias=0.0), seed=seed)


def constant_bias(width=6, depth=4, bias=0.3, shared=True) -> Case:
    """W = 0, one bias b for every layer: y(t) = sigma(b) for every input and layer, so
    x(T) = x(0) + T sigma(b), every across-sample std and every change between layers is 0,
    and the pruning criterion is exactly 0."""
    model = _net(width, depth, shared)
    with torch.no_grad():
        for t in range(depth):
            model.layer(t).weight.zero_()
            model.layer(t).bias.fill_(bias)
    y = torch.sigmoid(torch.tensor(bias)).expand(depth, width).clone()
    return Case("constant_bias", model, y, "y(t) = sigma(b)")


def bias_ladder(width=4, biases=(-2.0, -1.0, 0.5, 0.5, 2.0)) -> Case:
    """Separate weights, W = 0, layer t has bias b(t) (per layer, and per neuron: b(t) + 0.1 i):
    y(t)_i = sigma(b(t) + 0.1 i) for every input. The class-mean change from layer t to t+1 is
    mean_i |y(t+1)_i - y(t)_i| and the criterion of the net cut to depth d is the same at t = d-1."""
    depth = len(biases)
    model = _net(width, depth, shared=False)
    offsets = 0.1 * torch.arange(width, dtype=torch.float32)
    with torch.no_grad():
        for t, b in enumerate(biases):
            model.layer(t).weight.zero_()
            model.layer(t).bias.copy_(b + offsets)
    y = torch.sigmoid(torch.tensor(biases)[:, None] + offsets[None, :])
    return Case("bias_ladder", model, y, "y(t) = sigma(b(t) + 0.1 i)")


def input_then_constant(width=5, depth=4, gain=1.0, bias=0.2) -> Case:
    """Separate weights: layer 1 reads the input (W(1) = gain * I), layers 2..T have W = 0 and bias b:
    y(1) = sigma(gain x(0) + b) depends on the input, y(t) = sigma(b) for t >= 2 does not. So the
    across-sample std is > 0 at layer 1 and exactly 0 from layer 2 (settling layer 2), and the
    criterion |y(T) - y(T-1)| is exactly 0 for every depth T >= 3."""
    model = _net(width, depth, shared=False)
    with torch.no_grad():
        for t in range(depth):
            model.layer(t).weight.zero_()
            model.layer(t).bias.fill_(bias)
        model.layer(0).weight.copy_(gain * torch.eye(width))
    return Case("input_then_constant", model, None, "settles from layer 2")


def saturated(width=6, depth=5, bias=50.0, shared=True) -> Case:
    """W = 0 and a large bias: sigma(50) == 1 in float32, so y(t) = 1 exactly and x(t) = x(0) + t."""
    case = constant_bias(width, depth, bias, shared)
    return Case("saturated", case.model, torch.ones(depth, width), "y(t) = 1")


CONSTANT_CASES = (constant_bias, bias_ladder, saturated)
