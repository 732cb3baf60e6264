"""A small catalogue of residual models beyond the paper's dense nets, for the studies and the tests.

Each model keeps its residual blocks in one ``nn.Sequential`` (``blocks``), so that
:func:`resdyn.lib.trace.trace` and :mod:`resdyn.lib.surgery` find them with ``blocks=None``. Imports torch
only.

- :class:`PreActBlock1d`: a pre-activation residual block on 1-D signals (n, channels, length);
- :class:`ConvResNet1d`: a 1-D conv ResNet of such blocks for signals (n, length), e.g. MNIST-1D
  (length 40) or a flat image read as a signal of one channel (digits: 64, MNIST: 784);
- :class:`SigmoidResNet`: the paper's dense sigmoid ResNet as blocks (optionally lifted to a width);
- :class:`PatchTransformer1d`: a small pre-norm transformer over patches of a signal;
- :data:`FAMILIES`: the MNIST-1D study's families, each a maker ``(length, depth, seed)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
    halves the length and widens), global average pooling, a linear head. ``in_channels``: the flat
    input (n, in_channels * length) is read as ``in_channels`` signals of one length (an image's rows
    as channels); 1, the default: one signal.

    The weights are drawn from ``seed`` (torch's global generator is seeded inside a forked state
    and left as it was)."""

    def __init__(self, channels=(8, 16), blocks_per_stage: int = 2, n_classes: int = 10, seed: int = 0, *,
                 in_channels: int = 1):
        super().__init__()
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive int (the signals the flat input holds), got {in_channels!r}.")
        self.in_channels = in_channels
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.stem = nn.Conv1d(in_channels, channels[0], 3, padding=1)
            layers, c_in = [], channels[0]
            for s, c in enumerate(channels):
                for b in range(blocks_per_stage):
                    layers.append(PreActBlock1d(c_in, c, stride=2 if s > 0 and b == 0 else 1))
                    c_in = c
            self.blocks = nn.Sequential(*layers)
            self.head = nn.Linear(c_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] % self.in_channels:
            raise ValueError(f"x has {x.shape[1]} features, not a multiple of in_channels={self.in_channels}; "
                             "give in_channels a divisor of the input's features (an image's height).")
        return self.head(self.blocks(self.stem(x.reshape(len(x), self.in_channels, -1))).mean(dim=2))


class SigmoidBlock(nn.Module):
    """The paper's residual layer as a block: x + sigmoid(W x + b), written literally."""

    def __init__(self, width: int):
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.sigmoid(self.linear(x))


class SigmoidResNet(nn.Module):
    """The paper's dense sigmoid ResNet for inputs (n, n_in) with separate weights, as blocks a trace
    finds: x(0) = x (``width=None``: width = input dimension, as in the paper) or x(0) = L x with a
    linear ``lift`` L to ``width``; x(t+1) = x(t) + sigmoid(W(t) x(t) + b(t)) for ``depth`` blocks; a
    linear head reads x(T). PyTorch's default initialization, drawn from ``seed``."""

    def __init__(self, n_in: int, depth: int, *, width: int | None = None, n_classes: int = 10, seed: int = 0):
        super().__init__()
        width = n_in if width is None else width
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.lift = nn.Identity() if width == n_in else nn.Linear(n_in, width)
            self.blocks = nn.ModuleList(SigmoidBlock(width) for _ in range(depth))
            self.head = nn.Linear(width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lift(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class PatchTransformer1d(nn.Module):
    """A small pre-norm transformer over patches of a signal (n, length): non-overlapping patches of
    ``patch`` samples embedded to ``d`` with a learned position embedding, ``depth`` pre-norm encoder
    layers (``norm_first=True``: x(t+1) = x(t) + attention(LN x) + MLP(LN ...), exact residual blocks,
    no dropout) in one ``nn.ModuleList`` ``blocks``, a final LayerNorm, the mean over tokens, a linear
    head. Weights drawn from ``seed``."""

    def __init__(self, length: int, depth: int, *, patch: int = 4, d: int = 32, heads: int = 4, mlp: int = 64,
                 n_classes: int = 10, seed: int = 0):
        super().__init__()
        if length % patch:
            raise ValueError(f"patch must divide the signal length {length}, got patch={patch}.")
        self.patch = patch
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.embed = nn.Linear(patch, d)
            self.position = nn.Parameter(0.02 * torch.randn(1, length // patch, d))
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(d, heads, mlp, dropout=0.0, batch_first=True, norm_first=True)
                for _ in range(depth))
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x.reshape(len(x), -1, self.patch)) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x).mean(dim=1))


@dataclass(frozen=True)
class Family:
    """A kind of residual net for signals (n, length): ``make(length, depth, seed)`` builds one with
    ``depth`` blocks (each block one x -> x + f(x), found by ``resdyn.lib.trace`` with blocks=None)."""

    name: str
    title: str
    make: Callable[[int, int, int], nn.Module]


#: The initializations a dense family (:class:`SigmoidResNet`) is chosen from on validation: PyTorch's default
#: (as built) and the chosen MNIST regime's scaled one (:func:`scaled_init`).
DENSE_INITS = ("default", "scaled")


@torch.no_grad()
def scaled_init(model: SigmoidResNet, seed: int, *, scale: float = 0.1, bias: float = -4.0) -> SigmoidResNet:
    """``model``'s residual blocks re-drawn as the chosen MNIST regime draws its layers: W(t) ~ N(0, scale^2 /
    width), b(t) = ``bias``, from ``seed`` (the lift and the head keep theirs); returns ``model``."""
    g = torch.Generator().manual_seed(seed)
    for block in model.blocks:
        w = block.linear.weight
        w.copy_(torch.randn(w.shape, generator=g) * (scale / w.shape[1] ** 0.5))
        block.linear.bias.fill_(bias)
    return model


def init_candidates(name: str) -> tuple[str, ...]:
    """The initializations family ``name`` is chosen from: :data:`DENSE_INITS` for a dense family, else its own."""
    return DENSE_INITS if name in ("dense", "dense256") else ("default",)


#: The MNIST-1D study's families, fixed before its runs.
FAMILIES = (
    Family("dense", "dense sigmoid ResNet, width 40 (the paper's)", lambda n, depth, seed: SigmoidResNet(n, depth, seed=seed)),
    Family("dense256", "dense sigmoid ResNet, lifted to width 256",
           lambda n, depth, seed: SigmoidResNet(n, depth, width=256, seed=seed)),
    Family("conv", "1-D conv ResNet, 16 channels, pre-activation",
           lambda n, depth, seed: ConvResNet1d(channels=(16,), blocks_per_stage=depth, seed=seed)),
    Family("transformer", "pre-norm transformer, patches of 4, d = 32",
           lambda n, depth, seed: PatchTransformer1d(n, depth, seed=seed)),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def family(name: str) -> Family:
    """The entry of :data:`FAMILIES` called ``name``."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise ValueError(f"family must be one of {', '.join(FAMILY_NAMES)}; got {name!r}.")
