"""The paper's dense residual network, written so that the equations can be read off the code.

    x(0)   = input                          (N = width neurons, e.g. 784 MNIST pixels)
    y(t+1) = f(W(t) x(t) + b(t))            the residual, f logistic by default
    x(t+1) = x(t) + y(t+1)                  the cumulative signal (an Euler step of an ODE)
    logits = A x(T) + c                     a linear read-out of the last state

With ``shared_weights=True`` every layer uses the same W, b (Liao & Poggio), so the net is an
autonomous dynamical system iterated T times; with separate weights each layer has its own.
"""
from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, replace
from typing import ClassVar, NamedTuple

import torch
from torch import nn

ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
_IN_PLACE = {"sigmoid": torch.sigmoid_, "tanh": torch.tanh_, "relu": torch.relu_}


#: Seeds are integers in [0, MAX_SEED]: what numpy, torch and openTSNE all accept.
MAX_SEED = 2**31 - 1


def without_later_defaults(d: dict, defaults: dict) -> dict:
    """``d`` without the keys of ``defaults`` whose value is the default (see ``LATER_DEFAULTS``)."""
    return {k: v for k, v in d.items() if not (k in defaults and v == defaults[k])}


def check_seed(seed, name: str = "seed") -> int:
    """``seed`` if it is an integer in [0, :data:`MAX_SEED`]; else a ValueError naming ``name``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be an integer in [0, {MAX_SEED}], got {seed!r}; pass for example {name}=0.")
    return seed


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and initialization of a :class:`DenseResNet`.

    Args:
        width: neurons per layer, N (784 for MNIST, 64 for digits).
        depth: number of residual layers, T >= 1.
        n_classes: outputs of the linear read-out.
        activation: ``"sigmoid"`` (the paper), ``"tanh"`` or ``"relu"``.
        shared_weights: one W, b for all layers (True) or one per layer (False).
        init_scale: ``None`` keeps PyTorch's default ``nn.Linear`` initialization,
            W ~ U(-1/sqrt(N), 1/sqrt(N)); a number s draws W ~ Normal(0, s^2 / N) instead.
        init_bias: the residual layers' initial bias when ``init_scale`` is set.
        residual: ``True`` (the paper): x(t+1) = x(t) + y(t+1). ``False``: the non-residual control
            of the same width and depth, an MLP x(t+1) = y(t+1) = f(W(t) x(t) + b(t))."""

    width: int = 784
    depth: int = 15
    n_classes: int = 10
    activation: str = "sigmoid"
    shared_weights: bool = False
    init_scale: float | None = None
    init_bias: float = 0.0
    residual: bool = True

    #: Options added after the first records, left out of :meth:`to_dict` at their defaults so that
    #: every earlier net keeps its cache key and every earlier run its experiment spec.
    LATER_DEFAULTS: ClassVar[dict] = {"residual": True}

    def __post_init__(self):
        for name in ("width", "depth", "n_classes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f'Invalid activation "{self.activation}". Must be one of {set(ACTIVATIONS)}.'
            )
        if self.init_scale is not None and not (self.init_scale >= 0 and math.isfinite(self.init_scale)):
            raise ValueError(f"init_scale must be None or a finite number >= 0, got {self.init_scale!r}.")
        if not math.isfinite(self.init_bias):
            raise ValueError(f"init_bias must be a finite number, got {self.init_bias!r}; the chosen regime uses -4.0.")
        if not isinstance(self.residual, bool):
            raise ValueError(f"residual must be True (the paper's net) or False (the MLP control), got {self.residual!r}.")

    def to_dict(self) -> dict:
        return without_later_defaults(asdict(self), self.LATER_DEFAULTS)

    def multiply_adds(self, batch: int, *, training: bool = True) -> int:
        """Multiply-adds of the matrix products for ``batch`` samples: a forward pass, or a training
        step (forward, weight gradients, input gradients). Elementwise work (bias, activation,
        residual add, loss) is left out: it is O(T N) per sample against O(T N^2).

        Per sample, with N = width, T = depth, C = n_classes: forward T N^2 + N C; a training step
        adds T N^2 + N C for the weight gradients and (T - 1) N^2 + N C for the input gradients
        (the input x(0) needs none). FLOPs are twice this."""
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be an integer >= 1, got {batch!r}.")
        N, T, C = self.width, self.depth, self.n_classes
        forward = T * N * N + N * C
        if not training:
            return batch * forward
        return batch * (forward + (T * N * N + N * C) + ((T - 1) * N * N + N * C))


class Trajectory(NamedTuple):
    """The network's transient dynamics for a batch.

    states:    (batch, T+1, N); ``states[:, 0]`` is the input x(0), ``states[:, t]`` is x(t).
    residuals: (batch, T, N); ``residuals[:, t-1]`` is y(t), so that exactly
               ``states[:, 1:] == states[:, :-1] + residuals`` (for the MLP control,
               ``ModelConfig(residual=False)``: ``states[:, 1:] == residuals``).
    logits:    (batch, n_classes), the read-out of ``states[:, -1]``.

    :meth:`DenseResNet.trajectory` stores states and residuals layer by layer (strides
    (N, batch * N, 1)): every ``states[:, t]`` is contiguous; indexing, ``reshape`` and NumPy work
    as usual, ``.view`` of the whole needs ``.contiguous()`` first."""

    states: torch.Tensor
    residuals: torch.Tensor
    logits: torch.Tensor


class DenseResNet(nn.Module):
    """A dense ResNet x(t+1) = x(t) + f(W(t) x(t) + b(t)) with a linear read-out of x(T).

    ``forward`` returns logits and records nothing (training speed); ``trajectory`` returns the
    states and residuals of every layer."""

    def __init__(self, config: ModelConfig = ModelConfig(), *, seed: int = 0):
        super().__init__()
        self.config = config
        self.f = ACTIVATIONS[config.activation]
        self.f_ = _IN_PLACE[config.activation]  # the same function, in place (trajectory's buffers)
        n_weights = 1 if config.shared_weights else config.depth
        self.blocks = nn.ModuleList(nn.Linear(config.width, config.width) for _ in range(n_weights))
        self.readout = nn.Linear(config.width, config.n_classes)
        self._init(check_seed(seed))

    # -- structure ---------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        return self.config.depth

    def layer(self, t: int) -> nn.Linear:
        """The affine map W(t), b(t) of layer t (0-based): the same module for every t if shared."""
        return self.blocks[0] if self.config.shared_weights else self.blocks[t]

    def truncated(self, depth: int) -> "DenseResNet":
        """A new model keeping the first ``depth`` layers and the read-out, inputs (batch, N) to logits
        (batch, C); ``self`` is untouched."""
        if not isinstance(depth, int) or not 1 <= depth <= self.depth:
            raise ValueError(f"depth must be an integer in [1, {self.depth}], got {depth!r}.")
        new = copy.deepcopy(self)
        new.config = replace(self.config, depth=depth)
        if not self.config.shared_weights:
            new.blocks = new.blocks[:depth]
        return new

    # -- computation -------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_classes) for inputs x (batch, N)."""
        self._check_input(x)
        for t in range(self.depth):
            y = self.f(self.layer(t)(x))
            x = x + y if self.config.residual else y
        return self.readout(x)

    def trajectory(self, x: torch.Tensor, *, out: Trajectory | None = None) -> Trajectory:
        """States (batch, T+1, N), residuals (batch, T, N) and logits for inputs x (batch, N).

        Call under ``torch.no_grad()`` for analysis; gradients flow through it otherwise.

        Args:
            out: tensors of exactly those shapes, x's dtype and device, to write into instead of
                allocating (e.g. rows of a larger trajectory, see
                :func:`resdyn.core.dynamics.collect_trajectory`); returned. Only without gradients.

        The values are bit-identical to ``forward``'s (``logits``) and to recomputing each layer.
        The tensors it allocates are stored layer by layer (``states[:, t]`` is one contiguous
        block), so that each layer writes its results in place; ``.contiguous()`` gives a
        sample-major copy."""
        self._check_input(x)
        batch, T, N = x.shape[0], self.depth, self.config.width
        needs_grad = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in self.parameters()))
        if out is None:
            states = x.new_empty(T + 1, batch, N).transpose(0, 1)
            residuals = x.new_empty(T, batch, N).transpose(0, 1)
            logits = None
        else:
            self._check_out(out, x, needs_grad)
            states, residuals, logits = out
        states[:, 0] = x
        for t in range(T):
            slot = residuals[:, t]
            if needs_grad or not slot.is_contiguous():  # as forward, then copied (out= has no autograd)
                y = self.f(self.layer(t)(x))
                slot.copy_(y)
            else:  # the same computation (F.linear is addmm for 2-D x), written in place
                layer = self.layer(t)
                y = self.f_(torch.addmm(layer.bias, x, layer.weight.T, out=slot))
            if needs_grad:
                x = x + y if self.config.residual else y
                states[:, t + 1] = x
            elif self.config.residual:
                x = torch.add(x, y, out=states[:, t + 1])
            else:  # the MLP control: the state is the layer's output
                x = states[:, t + 1].copy_(y)
        if logits is None:
            logits = self.readout(x)
        else:
            logits.copy_(self.readout(x))
        return Trajectory(states, residuals, logits)

    # -- internals ---------------------------------------------------------------------------
    def _check_out(self, out, x: torch.Tensor, needs_grad: bool) -> None:
        if needs_grad:
            raise ValueError("out= records without gradients only; call trajectory(x, out=...) under torch.no_grad().")
        batch, T, N = x.shape[0], self.depth, self.config.width
        expected = ((batch, T + 1, N), (batch, T, N), (batch, self.config.n_classes))
        if not isinstance(out, tuple) or len(out) != 3:
            raise ValueError(f"out must be a Trajectory (states, residuals, logits), got {type(out).__name__}.")
        for name, tensor, shape in zip(Trajectory._fields, out, expected):
            if tuple(tensor.shape) != shape or tensor.dtype != x.dtype or tensor.device != x.device:
                raise ValueError(
                    f"out.{name} must have shape {shape}, dtype {x.dtype} and device {x.device} for this input, "
                    f"got {tuple(tensor.shape)}, {tensor.dtype}, {tensor.device}.")

    def _check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.config.width:
            raise ValueError(f"x must have shape (batch, {self.config.width}) to match the model's width, got "
                             f"{tuple(x.shape)}; build the model with ModelConfig(width={x.shape[-1]}) for this data.")

    @torch.no_grad()
    def _init(self, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        N = self.config.width
        for block in self.blocks:
            if self.config.init_scale is None:  # PyTorch's nn.Linear default, drawn from our generator
                bound = 1.0 / math.sqrt(N)
                block.weight.uniform_(-bound, bound, generator=g)
                block.bias.uniform_(-bound, bound, generator=g)
            else:
                block.weight.normal_(0.0, self.config.init_scale / math.sqrt(N), generator=g)
                block.bias.fill_(self.config.init_bias)
        bound = 1.0 / math.sqrt(N)
        self.readout.weight.uniform_(-bound, bound, generator=g)
        self.readout.bias.uniform_(-bound, bound, generator=g)
