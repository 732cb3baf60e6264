"""Per-layer statistics of a trace accumulated batch by batch, without keeping the trajectory.

:func:`trace_stats` runs :func:`resdyn.lib.trace.trace_batches` and keeps, per stage, only

- per class, layer and feature: the count, mean and sum of squared deviations of y (merged over
  batches with Chan et al.'s pairwise update, in float64; each batch's moments are taken about its
  own class means, so that no E[y^2] - E[y]^2 cancellation loses a small spread);
- the per-layer sums the criteria of :mod:`resdyn.lib.criteria` are means of: |y(t) - y(t-1)|, the
  cosine and the angular distance between every pair of states (per-sample Gram matrices in
  float64: arccos near 1 magnifies a float32 cosine's rounding), |y(t)| / |x(t-1)|.

One batch's trajectory is held at a time, in tensors reused from batch to batch.

Memory: (2 C T_s F + 2 (T_s+1)^2) float64 per stage (C classes, T_s layers, F features per
state), however many samples. States are flattened per layer (F = prod(shape), tokens included:
for one cosine per token use :func:`resdyn.lib.trace.trace` and the criteria with ``per_token``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from resdyn.lib.trace import Stage, trace_batches


@dataclass(frozen=True, eq=False)
class StageStats:
    """Statistics of one stage over all samples, float64, on the CPU.

    layers:            (T_s,) indices into :attr:`TraceStats.names`.
    classes, counts:   (C,) labels and samples per class.
    mean, std:         (C, T_s, F) mean and standard deviation (n - 1) of y over each class's
                       samples, per layer and feature (nan for a class of one sample).
    convergence:       (T_s-1,) c(t), as :func:`resdyn.lib.criteria.convergence_profile`.
    block_influence:   (T_s,), as :func:`resdyn.lib.criteria.block_influence`.
    relative_residual: (T_s,), as :func:`resdyn.lib.criteria.relative_residual`.
    cosine, angle:     (T_s+1, T_s+1) mean over samples of cos(x(l), x(m)) and of arccos(cos)/pi.
    """

    layers: tuple[int, ...]
    classes: torch.Tensor
    counts: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    convergence: torch.Tensor
    block_influence: torch.Tensor
    relative_residual: torch.Tensor
    cosine: torch.Tensor
    angle: torch.Tensor

    def angular_distance(self, span: int = 1) -> torch.Tensor:
        """(T_s+1-span,): as :func:`resdyn.lib.criteria.angular_distance`, d(x(l), x(l+span)) at entry l."""
        T = self.angle.shape[0] - 1
        if not isinstance(span, int) or not 1 <= span <= T:
            raise ValueError(f"span must be an integer in [1, {T}] for {T} blocks, got {span!r}.")
        return self.angle.diagonal(offset=span)


@dataclass(frozen=True, eq=False)
class TraceStats:
    """:func:`trace_stats`'s result: one :class:`StageStats` per stage; names and transitions per
    layer as in :class:`resdyn.lib.trace.BlockTrajectory`; n samples."""

    stages: tuple[StageStats, ...]
    names: tuple[str, ...]
    transitions: tuple[bool, ...]
    n: int


def trace_stats(model, x: torch.Tensor, labels: torch.Tensor | None = None, blocks=None, *,
                batch_size: int = 1000, reduce_tokens: str | int = "all", mode: str = "eval") -> TraceStats:
    """Statistics of ``trace(model, x, blocks)`` accumulated over batches of ``batch_size``.

    Args:
        labels: (n,) integer class labels for the class statistics; None: all samples in class 0.
        Others as in :func:`resdyn.lib.trace.trace` (records without gradients).
    The numbers equal those of the full trace and :mod:`resdyn.lib.criteria` to rounding.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}.")
    batches = trace_batches(model, x, blocks, batch_size=batch_size, reduce_tokens=reduce_tokens, mode=mode,
                            reuse=True)  # checks x
    classes, index = _class_index(labels, len(x))
    sums, start = None, 0
    for part in batches:
        if sums is None:
            sums = [_StageSums(stage, len(classes)) for stage in part.stages]
            layers, names, transitions = [s.layers for s in part.stages], part.names, part.transitions
        stop = start + len(part.stages[0].states)
        for acc, stage in zip(sums, part.stages):
            acc.add(stage, index[start:stop].to(stage.states.device))
        start = stop
    stages = tuple(acc.result(stage_layers, classes) for acc, stage_layers in zip(sums, layers))
    return TraceStats(stages, names, transitions, len(x))


def _class_index(labels, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The classes (C,) and each sample's class index (n,) in [0, C)."""
    if labels is None:
        return torch.zeros(1, dtype=torch.long), torch.zeros(n, dtype=torch.long)
    if not isinstance(labels, torch.Tensor) or labels.shape != (n,) or labels.is_floating_point():
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be an integer tensor of shape ({n},), one per sample of x, got {got}; "
                         "or None for one class.")
    classes = torch.unique(labels.cpu())
    return classes, torch.searchsorted(classes, labels.cpu())


class _StageSums:
    """Running sums for one stage; ``add`` takes a batch, ``result`` gives the StageStats."""

    def __init__(self, stage: Stage, n_classes: int):
        T, F = stage.residuals.shape[1], math.prod(stage.residuals.shape[2:])
        zeros = dict(dtype=torch.float64, device=stage.states.device)
        self.count = torch.zeros(n_classes, **zeros)
        self.mean = torch.zeros(n_classes, T, F, **zeros)
        self.m2 = torch.zeros(n_classes, T, F, **zeros)
        self.abs_change = torch.zeros(max(T - 1, 0), **zeros)
        self.ratio = torch.zeros(T, **zeros)
        self.cosine = torch.zeros(T + 1, T + 1, **zeros)
        self.angle = torch.zeros(T + 1, T + 1, **zeros)
        self.n = 0

    def add(self, stage: Stage, index: torch.Tensor) -> None:
        n = len(stage.states)
        x = stage.states.transpose(0, 1).reshape(stage.states.shape[1], n, -1)  # (T+1, n, F), a view
        y = stage.residuals.transpose(0, 1).reshape(stage.residuals.shape[1], n, -1)  # when layer-major
        self._add_moments(y, index)
        self.abs_change += (y[1:] - y[:-1]).abs_().sum(dim=(1, 2)).double()
        x64 = x.transpose(0, 1).double()  # (n, T+1, F): cosines in float64 (arccos near 1 needs it)
        gram = x64 @ x64.transpose(1, 2)  # (n, T+1, T+1)
        norms = gram.diagonal(dim1=1, dim2=2).sqrt()  # (n, T+1)
        self.ratio += (torch.linalg.vector_norm(y, dim=2).double() / norms.T[:-1]).sum(dim=1)
        norms = norms.clamp_min(1e-12)
        cos = gram / (norms[:, :, None] * norms[:, None, :])
        self.cosine += cos.sum(dim=0)
        self.angle += (torch.arccos(cos.clamp(-1, 1)) / math.pi).sum(dim=0)
        self.n += n

    def _add_moments(self, y: torch.Tensor, index: torch.Tensor) -> None:
        """Merge each class's count, mean and M2 of y (T, n, F) in this batch into the running ones."""
        counts = torch.bincount(index, minlength=len(self.count))
        grouped = y.index_select(1, torch.argsort(index, stable=True))  # samples grouped by class
        shift, s1, s2 = (y.new_zeros(len(counts), y.shape[0], y.shape[2]) for _ in range(3))  # (C, T, F)
        start = 0
        for c, k in enumerate(counts.tolist()):
            if k:
                part = grouped[:, start : start + k]
                torch.mean(part, dim=1, out=shift[c])  # ~ the class mean, float32
                dev = part - shift[c][:, None]  # small: float32 keeps the spread (no E[y^2] - E[y]^2)
                torch.sum(dev, dim=1, out=s1[c])
                torch.sum(dev.square_(), dim=1, out=s2[c])
                start += k
        k = counts.to(self.count)
        per = k.clamp(min=1)[:, None, None]
        s1 = s1.double()
        mean, m2 = shift.double() + s1 / per, s2.double() - s1.square() / per  # about the exact means
        total = self.count + k
        delta = mean - self.mean
        self.mean += delta * (k / total.clamp(min=1))[:, None, None]
        self.m2 += m2 + delta.square() * (self.count * k / total.clamp(min=1))[:, None, None]
        self.count = total

    def result(self, layers: tuple[int, ...], classes: torch.Tensor) -> StageStats:
        n, cpu = self.n, torch.device("cpu")
        std = (self.m2.clamp_min(0) / (self.count - 1)[:, None, None]).sqrt()
        std[self.count < 2] = float("nan")
        F = self.mean.shape[2]
        return StageStats(
            layers, classes, self.count.long().to(cpu), self.mean.to(cpu), std.to(cpu),
            (self.abs_change / (n * F)).to(cpu), (1 - self.cosine.diagonal(offset=1) / n).to(cpu),
            (self.ratio / n).to(cpu), (self.cosine / n).to(cpu), (self.angle / n).to(cpu),
        )
