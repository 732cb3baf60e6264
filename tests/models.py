"""Small models for the trace and surgery tests (and bench/trace_bench.py); the conv ResNet lives in
the package's catalogue (:mod:`resdyn.lib.zoo`) and is re-exported here."""
from __future__ import annotations

import torch
from torch import nn

from resdyn.lib.zoo import ConvResNet1d, PreActBlock1d  # noqa: F401


class Widening(nn.Module):
    """A block whose output is wider than its input, with no projection shortcut (bad input)."""

    def __init__(self, d: int):
        super().__init__()
        self.linear = nn.Linear(d, 2 * d)

    def forward(self, x):
        return self.linear(x)


class MLPBlock(nn.Module):
    """x + relu(linear(x))."""

    def __init__(self, d: int):
        super().__init__()
        self.linear = nn.Linear(d, d)

    def forward(self, x):
        return x + torch.relu(self.linear(x))


class WithUnused(nn.Module):
    """Three blocks in a ModuleList, one block that forward never calls, and a widening block
    that forward calls where ``widen``; ``scale_between`` doubles the signal after the first block
    (``"in place"``: in the first block's output tensor)."""

    def __init__(self, d: int = 6, *, widen: bool = False, scale_between: bool | str = False):
        super().__init__()
        self.layers = nn.ModuleList(MLPBlock(d) for _ in range(3))
        self.unused = MLPBlock(d)
        self.widen = Widening(d)
        self.use_widen, self.scale_between = widen, scale_between

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.scale_between and i == 0:
                x = x.mul_(2) if self.scale_between == "in place" else 2 * x
        return self.widen(x) if self.use_widen else x


class InPlaceBlock(nn.Module):
    """x += relu(linear(x)), written into its input and returned: a recorded input that is not a
    copy is overwritten."""

    def __init__(self, d: int):
        super().__init__()
        self.linear = nn.Linear(d, d)

    def forward(self, x):
        return x.add_(torch.relu(self.linear(x)))
