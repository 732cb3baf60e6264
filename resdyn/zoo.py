"""A small catalogue of residual models beyond the paper's dense nets, for the studies and the tests.

Each model keeps its residual blocks in one ``nn.Sequential`` (``blocks``), so that
:func:`resdyn.trace.trace` and :mod:`resdyn.surgery` find them with ``blocks=None``. Imports torch
only.

- :class:`PreActBlock1d`: a pre-activation residual block on 1-D signals (n, channels, length);
- :class:`ConvResNet1d`: a 1-D conv ResNet of such blocks for signals (n, length), e.g. MNIST-1D
  (length 40) or a flat image read as a signal of one channel (digits: 64, MNIST: 784).
"""
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
    halves the length and widens), global average pooling, a linear head.

    The weights are drawn from ``seed`` (torch's global generator is seeded inside a forked state
    and left as it was)."""

    def __init__(self, channels=(8, 16), blocks_per_stage: int = 2, n_classes: int = 10, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
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
