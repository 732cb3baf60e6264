"""The trajectory x(t) of any residual network, recorded with hooks on its blocks.

A residual block maps x(t) to x(t+1) = P x(t) + y(t+1), with P the identity or the block's
projection shortcut (:mod:`resdyn.lib.blocks`). :func:`trace` runs the model on a batch and records,
for every *call* of a block (one layer; a block called twice, as with shared weights, gives two):

- its input x(t), by a forward pre-hook on the block;
- P x(t), by a forward hook on the projection module, where the block has one;
- its output x(t+1), by a forward hook on the block;

and returns y(t+1) = x(t+1) - P x(t). Every recorded tensor is a copy taken inside the hook
(:mod:`resdyn.lib.hooks`), so a later in-place op (torchvision's ``out += identity`` and
``relu(inplace=True)``) cannot change it. States and residuals have the depth on axis 1:
(n, T+1, *shape) and (n, T, *shape), as :class:`resdyn.core.model.Trajectory`.

Stages. A *transition* block (one with a projection shortcut, or whose output shape differs from
its input) begins a new :class:`Stage`, whose ``states[:, 0]`` is the projected input P x(t); the
unprojected x(t) is the last state of the stage before. So inside a stage, as in
:class:`resdyn.core.model.Trajectory`, ``states[:, 1:] = states[:, :-1] + residuals`` (to rounding: y
is computed as a difference). A model without transitions has one stage, which
:attr:`BlockTrajectory.states` and :attr:`BlockTrajectory.residuals` give directly.

Post-activation blocks (torchvision BasicBlock, Bottleneck: x(t+1) = relu(F(x) + P x)): the
recorded y(t+1) = x(t+1) - P x(t) includes the final ReLU's effect; it is not the branch F(x).
It is the block's whole contribution to the signal, what the view x(t+1) = x(t) + y(t+1) needs,
and it is zero exactly where skipping the block (:func:`resdyn.lib.surgery.lesion`) changes nothing.

A :class:`resdyn.core.model.DenseResNet` is traced by its own ``trajectory``: one stage, equal bit for
bit to ``model.trajectory(x)`` (with ``batch_size=None``; in batches, each batch's rows are
``model.trajectory`` of that batch), for shared and separate weights. Its layer names are
``blocks.t``, or ``blocks.0`` for every layer with shared weights (one module).

By default the model runs in eval mode (``mode="eval"``: BatchNorm uses, and does not update, its
running statistics; dropout is off) under ``torch.no_grad()``; every module's training flag is
restored afterwards. :func:`resdyn.lib.streaming.trace_stats` accumulates statistics over batches
instead of keeping the trajectory.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn

from resdyn.lib.blocks import resolve_blocks
from resdyn.core.dynamics import batched_trajectory
from resdyn.lib.hooks import BlockRecorder, Recorded
from resdyn.core.model import DenseResNet, Trajectory

#: reduce_tokens values besides an int (one token): keep every token, or average over tokens.
REDUCE_TOKENS = ("all", "mean")
#: mode values: eval mode for the trace, or the model's modes as they are.
MODES = ("eval", "current")


@dataclass(frozen=True, eq=False)
class Stage:
    """A run of layers whose states share one shape.

    states:    (n, T_s+1, *shape); ``states[:, 0]`` is the stage's input (the first layer's input x,
               or P x where the stage begins at a transition block), ``states[:, t]`` the output of
               its t-th layer (1-based).
    residuals: (n, T_s, *shape); ``residuals[:, t-1]`` = y(t) = layer t's output minus P of its input.
    layers:    (T_s,) the stage's layers, as indices into :attr:`BlockTrajectory.names`.

    Both are stored layer by layer (``states[:, t]`` contiguous), like ``DenseResNet.trajectory``.
    """

    states: torch.Tensor
    residuals: torch.Tensor
    layers: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class BlockTrajectory:
    """A traced batch: the stages, the model's output, and one name and flag per layer.

    stages:      the trajectory split before every transition layer (see the module docstring).
    output:      the model's output for x (tensors concatenated over batches; else a list per batch).
    names:       (T,) module path of each layer (block call), in call order.
    transitions: (T,) whether each layer is a transition (projecting or shape-changing block).
    """

    stages: tuple[Stage, ...]
    output: Any
    names: tuple[str, ...]
    transitions: tuple[bool, ...]

    @property
    def states(self) -> torch.Tensor:
        """(n, T+1, *shape): the states of a one-stage trajectory (depth axis 1, x(0) at index 0)."""
        return self._only_stage().states

    @property
    def residuals(self) -> torch.Tensor:
        """(n, T, *shape): the residuals of a one-stage trajectory, y(t) at index t-1."""
        return self._only_stage().residuals

    def _only_stage(self) -> Stage:
        if len(self.stages) != 1:
            shapes = [tuple(s.states.shape[2:]) for s in self.stages]
            raise ValueError(
                f"this trajectory has {len(self.stages)} stages of shapes {shapes} (transitions at "
                f"{[n for n, t in zip(self.names, self.transitions) if t]}); use .stages[i].states."
            )
        return self.stages[0]


def trace(model: nn.Module, x: torch.Tensor, blocks=None, *, batch_size: int | None = None,
          reduce_tokens: str | int = "all", mode: str = "eval", grad: bool = False) -> BlockTrajectory:
    """Record the states and residuals of every block call of ``model`` on inputs ``x`` (n, ...).

    Args:
        blocks: which modules are the blocks: a path, a glob, modules, a list (see
            :mod:`resdyn.lib.blocks`), or None to find them. None for a DenseResNet.
        batch_size: run the model on this many samples at a time (None: all at once). Each batch
            after the first is written straight into its rows of the result.
        reduce_tokens: for blocks with tensors (n, tokens, d): ``"all"`` keeps every token (states
            (n, T+1, tokens, d); the criteria flatten them to tokens*d features), ``"mean"``
            records the mean over tokens (n, T+1, d), an int k records token k only (n, T+1, d).
        mode: ``"eval"`` (default) or ``"current"`` (the modules' training flags as they are:
            in train mode BatchNorm updates its running statistics).
        grad: record with gradients (default: under ``torch.no_grad()``).

    Returns a :class:`BlockTrajectory`; every module's training flag is as before the call.
    """
    options = _Options(batch_size, reduce_tokens, mode, grad)
    _check_input(model, x)
    with _recording(model, options):
        if _is_dense(model, blocks, reduce_tokens):  # bit for bit model.trajectory(x), or its batches
            return _dense_record(model, batched_trajectory(model, x, options.batch_size))
        recorder = BlockRecorder(resolve_blocks(model, blocks), reduce_tokens)
        with recorder.hooked():
            return _hooked_trace(model, x, recorder, options)


def trace_batches(model: nn.Module, x: torch.Tensor, blocks=None, *, batch_size: int | None = None,
                  reduce_tokens: str | int = "all", mode: str = "eval", grad: bool = False,
                  reuse: bool = False) -> Iterator[BlockTrajectory]:
    """:func:`trace` of ``x`` batch by batch: yields one :class:`BlockTrajectory` per batch of
    ``batch_size`` samples, keeping none. Arguments are checked at the call; the hooks and the
    chosen mode hold while the iterator runs and are removed, and the flags restored, when it ends.

    Args:
        reuse: write every batch after the first into the same tensors, so that a record is valid
            only until the next one is yielded: no allocation per batch, for consumers that reduce
            each batch (:func:`resdyn.lib.streaming.trace_stats`). Ignored with ``grad=True``.
    """
    options = _Options(batch_size, reduce_tokens, mode, grad)
    _check_input(model, x)
    reuse = reuse and not grad
    if _is_dense(model, blocks, reduce_tokens):
        return _dense_batches(model, x, options, reuse)
    return _hooked_batches(model, x, BlockRecorder(resolve_blocks(model, blocks), reduce_tokens), options, reuse)


# -- options and inputs ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    batch_size: int | None
    reduce_tokens: str | int
    mode: str
    grad: bool

    def __post_init__(self):
        b = self.batch_size
        if b is not None and (not isinstance(b, int) or isinstance(b, bool) or b < 1):
            raise ValueError(f"batch_size must be None (one batch) or an integer >= 1, got {b!r}.")
        r = self.reduce_tokens
        if not (r in REDUCE_TOKENS if isinstance(r, str) else isinstance(r, int) and not isinstance(r, bool)):
            raise ValueError(f"reduce_tokens must be 'all', 'mean' or a token index (int), got {r!r}.")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}.")
        if not isinstance(self.grad, bool):
            raise ValueError(f"grad must be True or False, got {self.grad!r}.")


def _check_input(model: nn.Module, x) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or len(x) == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of inputs (n, ...) with n >= 1, got {got}.")
    device = _device_of(model)
    if device is not None and x.device != device:
        raise ValueError(
            f"x is on device '{x.device}' but the model is on '{device}'; move the inputs, e.g. "
            f"trace(model, x.to('{device}')), or the model with model.to('{x.device}')."
        )


def _device_of(model: nn.Module) -> torch.device | None:
    tensor = next(itertools.chain(model.parameters(), model.buffers()), None)
    return None if tensor is None else tensor.device


@contextlib.contextmanager
def _recording(model: nn.Module, options: _Options):
    """Eval mode (unless mode='current') and the grad setting for the body; flags restored after."""
    flags = [(module, module.training) for module in model.modules()]
    if options.mode == "eval":
        model.eval()
    try:
        with torch.set_grad_enabled(options.grad):
            yield
    finally:
        for module, flag in flags:
            module.training = flag


def _batches(x: torch.Tensor, batch_size: int | None) -> Iterator[torch.Tensor]:
    step = batch_size or len(x)
    for i in range(0, len(x), step):
        yield x[i : i + step]


# -- DenseResNet ------------------------------------------------------------------------------
def _is_dense(model, blocks, reduce_tokens) -> bool:
    if not isinstance(model, DenseResNet):
        return False
    if blocks is not None:
        raise ValueError(f"blocks={blocks!r}: a DenseResNet is traced through its own trajectory; pass blocks=None.")
    if reduce_tokens != "all":
        raise ValueError(f"reduce_tokens={reduce_tokens!r}: a DenseResNet's states are (n, N), not tokens; use 'all'.")
    return True


def _dense_record(model: DenseResNet, traj: Trajectory) -> BlockTrajectory:
    T = model.depth
    names = tuple(f"blocks.{0 if model.config.shared_weights else t}" for t in range(T))
    stage = Stage(traj.states, traj.residuals, tuple(range(T)))
    return BlockTrajectory((stage,), traj.logits, names, (False,) * T)


def _dense_batches(model: DenseResNet, x, options, reuse: bool) -> Iterator[BlockTrajectory]:
    """One trajectory per batch; with ``reuse``, every batch after the first written into the first's tensors."""
    first = None
    with _recording(model, options):
        for xb in _batches(x, options.batch_size):
            rows = None if first is None else Trajectory(*(part[: len(xb)] for part in first))
            traj = model.trajectory(xb, out=rows)
            first = traj if reuse and first is None else first
            yield _dense_record(model, traj)


# -- hooked models ----------------------------------------------------------------------------
def _to_record(recorded: Recorded) -> BlockTrajectory:
    stages = tuple(Stage(states, residuals, layers) for states, residuals, layers in recorded.stages)
    return BlockTrajectory(stages, recorded.output, recorded.names, recorded.transitions)


def _hooked_batches(model, x, recorder: BlockRecorder, options, reuse: bool) -> Iterator[BlockTrajectory]:
    buffer, first = None, None
    with _recording(model, options), recorder.hooked():
        for xb in _batches(x, options.batch_size):
            rows = None if buffer is None else [(s[: len(xb)], r[: len(xb)]) for s, r in buffer]
            part = recorder.record(model, xb, rows)
            first = part if first is None else first
            _check_same_calls(first, part)
            if reuse and buffer is None:
                buffer = [(_allocate(s, len(xb)), _allocate(r, len(xb))) for s, r, _ in part.stages]
            yield _to_record(part)


def _check_same_calls(first: Recorded, part: Recorded) -> None:
    if part.names != first.names or part.transitions != first.transitions:
        raise ValueError("the blocks called differ between batches; trace with batch_size=None or a "
                         "model whose forward calls the same blocks for every input.")


def _hooked_trace(model, x, recorder: BlockRecorder, options) -> BlockTrajectory:
    """The first batch recorded into fresh tensors; the others straight into their rows of tensors
    for all n samples (copied there afterwards where gradients are recorded: out= has none)."""
    batches = _batches(x, options.batch_size)
    first = recorder.record(model, next(batches))
    if options.batch_size is None or options.batch_size >= len(x):
        return _to_record(first)
    n, step = len(x), options.batch_size
    whole = [(_allocate(states, n), _allocate(residuals, n)) for states, residuals, _ in first.stages]
    outputs = [first.output]
    for (states, residuals), (s, r, _) in zip(whole, first.stages):
        states[:step], residuals[:step] = s, r
    for start, xb in zip(range(step, n, step), batches):
        rows = [(states[start : start + step], residuals[start : start + step]) for states, residuals in whole]
        part = recorder.record(model, xb, None if options.grad else rows)
        _check_same_calls(first, part)
        if options.grad:
            for (states, residuals), (s, r, _) in zip(rows, part.stages):
                states.copy_(s)
                residuals.copy_(r)
        outputs.append(part.output)
    output = torch.cat(outputs) if all(isinstance(o, torch.Tensor) for o in outputs) else outputs
    stages = tuple(Stage(s, r, layers) for (s, r), (_, _, layers) in zip(whole, first.stages))
    return BlockTrajectory(stages, output, first.names, first.transitions)


def _allocate(like: torch.Tensor, n: int) -> torch.Tensor:
    """(n, *like.shape[1:]) like ``like`` (n_b, layers, ...), stored layer by layer."""
    return like.new_empty((like.shape[1], n, *like.shape[2:])).transpose(0, 1)
