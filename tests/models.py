"""Small models for the trace and surgery tests (and bench/trace_bench.py)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PreActBlock1d(nn.Module):
    """Pre-activation residual block (He et al. 2016, v2) on (n, channels, length):
    x + conv(relu(bn(conv(relu(bn(x)))))), with a 1x1 strided projection ``shortcut`` of x where the
    shape changes (identity otherwise)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.bn1 = nn.BatchNorm1d(c_in)
        self.conv1 = nn.Conv1d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, padding=1, bias=False)
        projects = stride != 1 or c_in != c_out
        self.shortcut = nn.Conv1d(c_in, c_out, 1, stride=stride, bias=False) if projects else nn.Identity()

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.branch(x)


class ConvResNet1d(nn.Module):
    """A 1-D conv ResNet for signals (n, length) (MNIST-1D: length 40): a stem, stages of
    pre-activation blocks in one ``nn.Sequential`` ``blocks`` (the first block of each later stage
    halves the length and widens), global average pooling, a linear head."""

    def __init__(self, channels=(8, 16), blocks_per_stage: int = 2, n_classes: int = 10, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.stem = nn.Conv1d(1, channels[0], 3, padding=1)
        layers, c_in = [], channels[0]
        for s, c in enumerate(channels):
            for b in range(blocks_per_stage):
                layers.append(PreActBlock1d(c_in, c, stride=2 if s > 0 and b == 0 else 1))
                c_in = c
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x[:, None])).mean(dim=2))


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
