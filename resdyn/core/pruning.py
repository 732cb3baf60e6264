"""Adaptive depth (the paper's algorithm) and layer removal.

The criterion compares the residuals of the last two layers,

    c = mean over samples and neurons of |y(T) - y(T-1)|,

i.e. the l1 norm of y(T) - y(T-1) divided by N ("0.01 for each neuron on average"), averaged over
a fixed probe set. When c < threshold, the last layer is removed. Training with this check after
every epoch is :func:`resdyn.core.train.fit` with ``adaptive=AdaptiveDepthConfig(...)``.

Note what the criterion tests: that y has stopped *changing*, not that it is small. A removed
sigmoid layer still added y(T) (in (0, 1)) to x(T). Removal is lossless only if y(T) is the same
for every input; then its effect on the logits is a constant, which ``fold_probe=`` folds into the
read-out bias (an option, not the paper's algorithm).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import torch
from torch import nn

from resdyn.core.data import Split, balanced_subset
from resdyn.core.dynamics import collect_trajectory
from resdyn.core.model import DenseResNet

#: The paper's threshold: "0.01 for each neuron on average".
PAPER_THRESHOLD = 0.01


@dataclass(frozen=True)
class AdaptiveDepthConfig:
    """Options of the adaptive-depth algorithm.

    Args:
        threshold: remove the last layer when the criterion is below this (paper: 0.01).
        min_depth: never prune below this depth.
        max_removals_per_check: layers removed at most per check (paper: 1). With more, the
            criterion is re-computed on the shorter net before each further removal.
        probe_size: samples of the training set (class-balanced, fixed seed) the criterion is
            computed on.
        fold_bias: fold the removed layer's mean contribution on the probe into the read-out bias.
        prune_after_last_epoch: also remove layers after the last epoch, as the paper's loop does;
            the default (False) only records the criterion then, so that the final net has been
            trained at its final depth (a removal after the last epoch, at learning rate 0 under a
            cosine schedule, is never trained)."""

    threshold: float = PAPER_THRESHOLD
    min_depth: int = 2
    max_removals_per_check: int = 1
    probe_size: int = 1000
    fold_bias: bool = False
    prune_after_last_epoch: bool = False

    def __post_init__(self):
        if not (isinstance(self.threshold, (int, float)) and self.threshold >= 0):  # inf: always prune
            raise ValueError(f"threshold must be a number >= 0, got {self.threshold!r}.")
        if not isinstance(self.min_depth, int) or self.min_depth < 2:
            raise ValueError(f"min_depth must be an integer >= 2 (the criterion needs two layers), got {self.min_depth!r}.")
        if not isinstance(self.max_removals_per_check, int) or self.max_removals_per_check < 1:
            raise ValueError(f"max_removals_per_check must be an integer >= 1, got {self.max_removals_per_check!r}.")
        if not isinstance(self.probe_size, int) or self.probe_size < 1:
            raise ValueError(f"probe_size must be an integer >= 1, got {self.probe_size!r}.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PruneRecord:
    """What one removal did: depths before and after, the removed layers (1-based), the criterion
    that triggered it (``None`` for a manual removal) and whether the read-out bias was adjusted."""

    depth_before: int
    depth_after: int
    removed_layers: tuple[int, ...]
    criterion: float | None = None
    epoch: int | None = None
    folded_bias: bool = False

    def to_dict(self) -> dict:
        d = asdict(self)
        d["removed_layers"] = list(self.removed_layers)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "PruneRecord":
        return cls(**{**d, "removed_layers": tuple(d["removed_layers"])})

    @classmethod
    def removal(cls, depth: int, new_depth: int, criterion: float | None = None, epoch: int | None = None,
                folded_bias: bool = False) -> "PruneRecord":
        """The record of cutting a net of ``depth`` layers to its first ``new_depth``."""
        return cls(depth, new_depth, tuple(range(new_depth + 1, depth + 1)), criterion, epoch, folded_bias)


def convergence_profile(residuals: torch.Tensor, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The paper's criterion at every depth, its one definition: c(t) = mean over samples and
    features of |y(t) - y(t-1)|, in ``residuals``' dtype (or ``dtype``).

    Args:
        residuals: (n, T, *shape) with T >= 2, as in :class:`resdyn.core.model.Trajectory`.
    Returns:
        (T-1,); entry t-2 is c(t), the criterion of the net cut to depth t; the last is c(T)."""
    if not isinstance(residuals, torch.Tensor) or residuals.ndim < 3 or residuals.shape[1] < 2:
        got = tuple(residuals.shape) if isinstance(residuals, torch.Tensor) else type(residuals).__name__
        raise ValueError(f"residuals must have shape (n, T, *shape) with T >= 2, got {got}; pass a trajectory's "
                         "residuals (for a (n, N) batch of one layer add the axis: y[:, None]).")
    r = residuals if dtype is None else residuals.to(dtype)
    change = (r[:, 1:] - r[:, :-1]).abs()  # (n, T-1, *shape)
    return change.mean(dim=(0, *range(2, change.ndim)))


def convergence_criterion(residuals: torch.Tensor) -> torch.Tensor:
    """The paper's criterion c(T), the last entry of :func:`convergence_profile`.

    Args:
        residuals: (n, T, *shape) with T >= 2.
    Returns:
        a 0-d tensor."""
    return convergence_profile(residuals[:, -2:])[-1]


@torch.no_grad()
def criterion_profile(model: DenseResNet, probe_x: torch.Tensor) -> torch.Tensor:
    """:func:`convergence_profile` of ``model`` on the inputs ``probe_x`` (n, N): (T-1,)."""
    if model.depth < 2:
        raise ValueError(f"the criterion needs depth >= 2, the model has depth {model.depth}.")
    return convergence_profile(collect_trajectory(model, probe_x).residuals)


def stop_depth(profile: torch.Tensor, config: "AdaptiveDepthConfig") -> int:
    """The depth at which repeated checks of the paper's rule stop removing layers, for the
    criterion ``profile`` (T-1,) of :func:`criterion_profile`: from the last layer down, remove
    while c(T) < threshold, never below ``min_depth``."""
    depth = len(profile) + 1
    while depth > config.min_depth and float(profile[depth - 2]) < config.threshold:
        depth -= 1
    return depth


@torch.no_grad()
def depth_criterion(model: DenseResNet, probe_x: torch.Tensor) -> float:
    """:func:`convergence_criterion` of ``model`` on the inputs ``probe_x`` (n, N), from its
    trajectory (:func:`resdyn.core.dynamics.collect_trajectory`)."""
    if model.depth < 2:
        raise ValueError(f"the criterion needs depth >= 2, the model has depth {model.depth}.")
    return float(convergence_criterion(collect_trajectory(model, probe_x).residuals))


@torch.no_grad()
def remove_last_layers(model: DenseResNet, k: int = 1, *, fold_probe: torch.Tensor | None = None,
                       criterion: float | None = None, epoch: int | None = None) -> tuple[DenseResNet, PruneRecord]:
    """Remove the last ``k`` layers (:meth:`resdyn.core.model.DenseResNet.truncated`). Returns a new
    model and a record; ``model`` is untouched.

    Args:
        k: layers to remove, 1 <= k < depth.
        fold_probe: inputs (n, N). If given, the removed layers' mean contribution to x(T) on these
            inputs, sum of y(t) for the removed t, (N,), is folded into the read-out bias, so that
            logits are unchanged wherever those residuals do not depend on the input."""
    depth = model.depth
    if not isinstance(k, int) or not 1 <= k < depth:
        raise ValueError(f"k must be an integer in [1, {depth - 1}] for a model of depth {depth}, got {k!r}.")
    new_depth = depth - k
    new = model.truncated(new_depth)
    if fold_probe is not None:
        removed = model.trajectory(fold_probe).residuals[:, new_depth:]  # (n, k, N)
        shift = removed.sum(dim=1).mean(dim=0)  # mean over samples of sum over removed layers, (N,)
        new.readout.bias += model.readout.weight @ shift
    return new, PruneRecord.removal(depth, new_depth, criterion, epoch, fold_probe is not None)


def probe_set(split: Split, config: AdaptiveDepthConfig, *, seed: int) -> torch.Tensor:
    """The fixed probe inputs (n, N) the criterion is computed on: ``config.probe_size`` samples of
    ``split`` (the training set), class-balanced (at most the smallest class's size per class),
    drawn with ``seed``."""
    counts = torch.bincount(split.y)
    counts = counts[counts > 0]
    per_class = max(1, min(config.probe_size // len(counts), int(counts.min())))
    return balanced_subset(split, per_class, seed=seed).x


@dataclass(frozen=True)
class DepthCheck:
    """One check of the adaptive-depth algorithm: the criterion of the net as it was, the layers
    removed (possibly none) and the net that goes on (the input net if nothing was removed)."""

    criterion: float
    removed: list[PruneRecord]
    model: nn.Module


@dataclass(frozen=True)
class DepthRule:
    """What :func:`check_depth` needs of a kind of net: its ``depth(model)``, the criterion
    ``criterion(model, probe)`` (a float) and ``remove(model, 1, fold_probe=, criterion=, epoch=)``
    (the net without its last layer, and the :class:`PruneRecord`)."""

    depth: Callable[[nn.Module], int]
    criterion: Callable[[nn.Module, torch.Tensor], float]
    remove: Callable[..., tuple[nn.Module, PruneRecord]]


#: The paper's dense net: its depth, :func:`depth_criterion`, :func:`remove_last_layers`.
DENSE = DepthRule(lambda model: model.depth, depth_criterion, remove_last_layers)


def check_depth(model: nn.Module, probe: torch.Tensor, config: AdaptiveDepthConfig, *,
                epoch: int | None = None, rule: DepthRule = DENSE) -> DepthCheck:
    """The paper's check after an epoch: while the criterion on ``probe`` (n, N) is below the
    threshold, remove the last layer (at most ``config.max_removals_per_check``, never below
    ``min_depth``). ``model`` is not changed. ``rule``: how to measure and cut the net (default the
    DenseResNet's; :data:`resdyn.lib.surgery.ANY` for any model with one stage of residual blocks)."""
    criterion = c = rule.criterion(model, probe)
    removed: list[PruneRecord] = []
    while c < config.threshold and rule.depth(model) > config.min_depth and len(removed) < config.max_removals_per_check:
        model, record = rule.remove(model, 1, fold_probe=probe if config.fold_bias else None, criterion=c, epoch=epoch)
        removed.append(record)
        c = rule.criterion(model, probe)  # defined: the depth is still >= min_depth >= 2
    return DepthCheck(criterion=criterion, removed=removed, model=model)
