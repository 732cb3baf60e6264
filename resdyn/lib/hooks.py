"""The hooks behind :func:`resdyn.lib.trace.trace`: what one forward pass records about its blocks.

:class:`BlockRecorder` puts a forward pre-hook (input x(t)) and a forward hook (output x(t+1))
on every block, and a forward hook on each block's projection shortcut (P x(t)). Every tensor is
copied inside its hook, so no later in-place op changes it; a block's input that is the same,
unmodified tensor (by its version counter) as the previous block's output is not copied twice.

The first forward pass records into fresh tensors and fixes the *plan*: which stage and position
each block call's output goes to. Later passes may be given ``rows``, views of larger tensors
(one batch's rows of the whole trajectory), that the hooks then copy into directly: no stacking
and no joining afterwards.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import torch
from torch import nn

from resdyn.lib.blocks import SHORTCUT_ATTRIBUTES, shortcut_of


class Recorded(NamedTuple):
    """One forward pass: per stage (states (n, T_s+1, ...), residuals (n, T_s, ...), layers), the
    model's output, and per layer the block's name and whether it projects."""

    stages: list[tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]]
    output: Any
    names: tuple[str, ...]
    transitions: tuple[bool, ...]


@dataclass
class _Call:
    block: int
    input: torch.Tensor
    shortcut: torch.Tensor | None = None
    output: torch.Tensor | None = None


class BlockRecorder:
    """Hooks on ``blocks`` ((path, module) pairs); :meth:`record` runs one forward pass."""

    def __init__(self, blocks: list[tuple[str, nn.Module]], reduce_tokens: str | int = "all"):
        self.blocks, self.reduce_tokens = blocks, reduce_tokens
        self.plan: list[tuple[int, int]] | None = None  # per call: (stage, position of its output)
        self.first_projects = False
        self._start(None)

    @contextlib.contextmanager
    def hooked(self):
        """The hooks, registered for the body and removed after it."""
        handles = []
        try:
            for i, (_, block) in enumerate(self.blocks):
                handles.append(block.register_forward_pre_hook(partial(self._enter, i), with_kwargs=True))
                handles.append(block.register_forward_hook(partial(self._exit, i)))
                projection = shortcut_of(block)
                if projection is not None:
                    handles.append(projection.register_forward_hook(partial(self._project, i)))
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def record(self, model: nn.Module, x: torch.Tensor, rows=None) -> Recorded:
        """``model(x)`` with the hooks on (inside :meth:`hooked`). ``rows``: per stage, (states,
        residuals) views to write into, laid out as the first pass's; only once a plan exists."""
        self._start(rows)
        output = model(x)
        recorded = _assemble(self.calls, self.blocks, output, rows)
        if self.plan is None:
            self.plan = [(s, j + 1) for s, (_, _, layers) in enumerate(recorded.stages) for j in range(len(layers))]
            self.first_projects = recorded.transitions[0]  # then x(0) has another shape than P x(0)
        return recorded

    # -- hooks --------------------------------------------------------------------------------
    def _start(self, rows) -> None:
        self.calls: list[_Call] = []
        self.active: list[int] = []
        self.last: tuple = (None, None)  # the last output as returned, and its version counter
        self.rows = rows

    def _enter(self, i, module, args, kwargs):
        if self.active:
            raise ValueError(f"blocks: {self.blocks[i][0]!r} runs inside block {self.blocks[self.active[-1]][0]!r}; "
                             "name blocks that are not nested in each other.")
        tensor = args[0] if args else next(iter(kwargs.values()), None)
        if self.calls and tensor is self.last[0] and _version(tensor) == self.last[1] is not None:
            kept = self.calls[-1].output  # the output before, unchanged since (no in-place op): no copy
        else:
            into = self._slot(0) if not self.calls and not self.first_projects else None
            kept = self._keep(tensor, i, "input", into)
        self.calls.append(_Call(i, kept))
        self.active.append(i)

    def _project(self, i, module, args, output):
        if self.active and self.active[-1] == i:
            self.calls[-1].shortcut = self._keep(output, i, "shortcut output", self._slot(len(self.calls) - 1))

    def _exit(self, i, module, args, output):
        self.active.pop()
        k = len(self.calls) - 1
        self.calls[-1].output = self._keep(output, i, "output", self._slot(k, output=True))
        raw = output[0] if isinstance(output, (tuple, list)) and output else output
        self.last = (raw, _version(raw))

    def _slot(self, k: int, *, output: bool = False) -> torch.Tensor | None:
        """Where call k's output (or its stage's first state) goes in ``rows``; None without rows."""
        if self.rows is None:
            return None
        if k >= len(self.plan):
            raise ValueError("the blocks called differ between batches; trace with batch_size=None or a "
                             "model whose forward calls the same blocks for every input.")
        stage, position = self.plan[k]
        return self.rows[stage][0][:, position if output else 0]

    def _keep(self, tensor, i, what: str, into: torch.Tensor | None) -> torch.Tensor:
        """A copy of ``tensor`` (the first element of a tuple), tokens reduced, in ``into`` if given."""
        tensor = tensor[0] if isinstance(tensor, (tuple, list)) and tensor else tensor
        name, r = self.blocks[i][0], self.reduce_tokens
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"block {name!r}: its {what} is a {type(tensor).__name__}, not a tensor; trace "
                            "blocks that take and return tensors.")
        has_token = isinstance(r, str) or -tensor.shape[1] <= r < tensor.shape[1] if tensor.ndim == 3 else False
        if r != "all" and not has_token:
            raise ValueError(f"reduce_tokens={r!r} needs tensors (n, tokens, d) with that token; block {name!r}'s "
                             f"{what} has shape {tuple(tensor.shape)}. Use reduce_tokens='all' for other blocks.")
        reduced = tensor if r == "all" else tensor.mean(dim=1) if r == "mean" else tensor[:, r]
        if into is not None:
            return into.copy_(reduced)
        return reduced if r == "mean" else reduced.clone()


def _version(tensor) -> int | None:
    """The tensor's in-place version counter (None where there is none: inference tensors)."""
    try:
        return tensor._version
    except (AttributeError, RuntimeError):
        return None


def _assemble(calls: list[_Call], blocks, output, rows) -> Recorded:
    """The stages of one forward's block calls; checks each call's shapes and that its input is the
    output of the call before."""
    missing = sorted({name for name, _ in blocks} - {blocks[c.block][0] for c in calls})
    if missing:
        raise ValueError(f"blocks: model.forward never called {missing}; pass blocks on the forward path "
                         "(a module defined but not used, or a branch not taken, records nothing).")
    parts: list[tuple[list, list]] = []  # per stage: states, layers
    for k, call in enumerate(calls):
        name = blocks[call.block][0]
        base = call.input if call.shortcut is None else call.shortcut
        if call.output.shape != base.shape:
            raise ValueError(
                f"blocks: {name!r} maps shape {tuple(call.input.shape[1:])} to {tuple(call.output.shape[1:])} "
                f"and has no projection shortcut (a module in one of {SHORTCUT_ATTRIBUTES}); pass blocks whose "
                "output shape equals their input, or hold the projection in a 'downsample' attribute.")
        before = calls[k - 1].output if k else None
        if before is not None and before is not call.input and not (
                before.shape == call.input.shape and torch.equal(before, call.input)):
            raise ValueError(
                f"blocks: the input of {name!r} is not the output of {blocks[calls[k - 1].block][0]!r} before it: "
                "something between them changes the signal (pooling, a norm); pass blocks that follow each other.")
        if k == 0 or call.shortcut is not None:
            parts.append(([base], []))
        parts[-1][0].append(call.output)
        parts[-1][1].append(k)
    names = tuple(blocks[c.block][0] for c in calls)
    return Recorded(_stages(parts, rows), output, names, tuple(c.shortcut is not None for c in calls))


def _stages(parts, rows) -> list[tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]]:
    """Per stage (states, residuals, layers), stored layer by layer; y(t) = x(t) - P x(t-1), where
    P x(t-1) is the state before in the stage. With ``rows`` the states are already in place."""
    stages = []
    for s, (states, layers) in enumerate(parts):
        if rows is None:
            stacked = torch.stack(states)  # (T_s+1, n, *shape)
            states_t, residuals_t = stacked.transpose(0, 1), (stacked[1:] - stacked[:-1]).transpose(0, 1)
        else:
            (states_t, residuals_t), rows_s = rows[s], len(states) - 1
            if residuals_t.shape[1] != rows_s:
                raise ValueError("the blocks called differ between batches; trace with batch_size=None.")
            torch.sub(states_t[:, 1:], states_t[:, :-1], out=residuals_t)
        stages.append((states_t, residuals_t, tuple(layers)))
    return stages
