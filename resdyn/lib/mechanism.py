"""What the sigmoid units of a dense net do, layer by layer: saturation against weight size.

A study of why the residuals settle (:mod:`resdyn.studies.sections.mechanism`), not one of the paper's
statistics (:mod:`resdyn.core.dynamics`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from resdyn.core.dynamics import collect_trajectory
from resdyn.core.model import DenseResNet


@dataclass(frozen=True)
class Mechanism:
    """What the units of each layer do on a set of inputs: saturation against weight size.
    Every field is (T,), entry t-1 for layer t; z(t) = W(t) x(t-1) + b(t), y(t) = sigmoid(z(t)).

    saturated: fraction of (sample, unit) pairs with y < 0.01 or y > 0.99;
    slope: mean of sigmoid'(z) = y (1 - y) (0.25 at most; near 0 when saturated);
    z_spread: mean over units of the across-sample std of z (how much z depends on the input);
    z_offset: mean over units of |mean over samples of z| (how far from sigmoid's linear range);
    weight_norm: Frobenius norm of W(t); bias_mean: mean of b(t) over units.
    """

    saturated: torch.Tensor
    slope: torch.Tensor
    z_spread: torch.Tensor
    z_offset: torch.Tensor
    weight_norm: torch.Tensor
    bias_mean: torch.Tensor


@torch.no_grad()
def mechanism(model: DenseResNet, x: torch.Tensor, *, saturation: float = 0.01) -> Mechanism:
    """:class:`Mechanism` of ``model`` (sigmoid activation) on inputs ``x`` (n, N)."""
    if model.config.activation != "sigmoid":
        raise ValueError(f'mechanism measures sigmoid units; the model\'s activation is "{model.config.activation}".')
    states, residuals, _ = collect_trajectory(model, x)
    fields = {k: [] for k in ("saturated", "slope", "z_spread", "z_offset", "weight_norm", "bias_mean")}
    for t in range(model.depth):
        layer = model.layer(t)
        z = torch.addmm(layer.bias, states[:, t], layer.weight.T).double()  # (n, N)
        y = residuals[:, t].double()
        fields["saturated"].append(((y < saturation) | (y > 1 - saturation)).double().mean())
        fields["slope"].append((y * (1 - y)).mean())
        fields["z_spread"].append(z.std(dim=0).mean())
        fields["z_offset"].append(z.mean(dim=0).abs().mean())
        fields["weight_norm"].append(layer.weight.double().norm())
        fields["bias_mean"].append(layer.bias.double().mean())
    return Mechanism(**{k: torch.stack(v).float() for k, v in fields.items()})
