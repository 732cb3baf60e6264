"""Adaptive depth (the paper's algorithm) and layer removal.

The criterion compares the residuals of the last two layers,

    c = mean over samples and neurons of |y(T) - y(T-1)|,

i.e. the l1 norm of y(T) - y(T-1) divided by N ("0.01 for each neuron on average"), averaged over
a fixed probe set. When c < threshold, the last layer is removed. Training with this check after
every epoch is :func:`resdyn.train.fit` with ``adaptive=AdaptiveDepthConfig(...)``.

Note what the criterion tests: that y has stopped *changing*, not that it is small. A removed
sigmoid layer still added y(T) (in (0, 1)) to x(T). Removal is lossless only if y(T) is the same
for every input; then its effect on the logits is a constant, which ``fold_probe=`` folds into the
read-out bias (an option, not the paper's algorithm).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from torch import nn

from . import surgery
from .data import Split, balanced_subset
from .model import DenseResNet
from .trace import trace

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
            cosine schedule, is never trained).
    """

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
            raise ValueError(
                f"min_depth must be an integer >= 2 (the criterion needs two layers), got {self.min_depth!r}."
            )
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


def convergence_criterion(residuals: torch.Tensor) -> torch.Tensor:
    """The paper's criterion: mean over samples and neurons of |y(T) - y(T-1)|.

    Args:
        residuals: (batch, T, N) with T >= 2, as in :class:`resdyn.model.Trajectory`.
    Returns:
        a 0-d tensor.
    """
    if residuals.ndim != 3 or residuals.shape[1] < 2:
        raise ValueError(
            f"residuals must have shape (batch, T, N) with T >= 2, got {tuple(residuals.shape)}."
        )
    return (residuals[:, -1] - residuals[:, -2]).abs().mean()


@torch.no_grad()
def criterion_profile(model: DenseResNet, probe_x: torch.Tensor) -> torch.Tensor:
    """The criterion between every pair of successive layers: (T-1,), entry t-2 is
    c(t) = mean over samples and neurons of |y(t) - y(t-1)|, i.e. the criterion of the net cut to depth t."""
    if model.depth < 2:
        raise ValueError(f"the criterion needs depth >= 2, the model has depth {model.depth}.")
    from .dynamics import collect_trajectory

    r = collect_trajectory(model, probe_x).residuals
    return (r[:, 1:] - r[:, :-1]).abs().mean(dim=(0, 2))


def stop_depth(profile: torch.Tensor, config: "AdaptiveDepthConfig") -> int:
    """The depth at which repeated checks of the paper's rule stop removing layers, for the
    criterion ``profile`` of :func:`criterion_profile`: from the last layer down, remove while
    c(T) < threshold, never below ``min_depth``."""
    depth = len(profile) + 1
    while depth > config.min_depth and float(profile[depth - 2]) < config.threshold:
        depth -= 1
    return depth


def censored_depth(criteria: list[float], threshold: float, min_depth: int, final_depth: int) -> tuple[bool, bool]:
    """(always_below, censored) of an adaptive run whose criterion after each epoch is ``criteria``
    (the last one recorded after the last epoch, when nothing is removed).

    always_below: the criterion was under the threshold at every check, so a layer went at every
    check and the depth was set by the number of epochs. censored: the run ended while the rule
    was still removing (always below, or under the threshold after the last epoch), or at the
    minimum depth: the final depth is not where the dynamics stop pruning."""
    checks, final = criteria[:-1], criteria[-1]
    always = bool(checks) and all(c < threshold for c in checks)
    censored = always or (final < threshold and final_depth > min_depth) or final_depth == min_depth
    return always, censored


def model_depth(model: nn.Module) -> int:
    """The depth the rule prunes: a DenseResNet's, or the number of blocks in the one
    ``nn.ModuleList``/``nn.Sequential`` of residual blocks of any other model (found automatically)."""
    return surgery.stage_length(model)


@torch.no_grad()
def depth_criterion(model: nn.Module, probe_x: torch.Tensor, *, batch_size: int = 1000) -> float:
    """:func:`convergence_criterion` of ``model`` on the inputs ``probe_x`` (n, ...).

    A DenseResNet runs its own trajectory in batches; any other model is traced
    (:func:`resdyn.trace.trace`) at its blocks, the last two layers of its last stage, each layer's
    output flattened."""
    depth = model_depth(model)
    if depth < 2:
        raise ValueError(f"the criterion needs depth >= 2, the model has depth {depth}.")
    if not isinstance(model, DenseResNet):
        residuals = trace(model, probe_x, batch_size=batch_size).stages[-1].residuals
        return float(convergence_criterion(residuals[:, -2:].flatten(2)))
    total, n = 0.0, 0
    for i in range(0, len(probe_x), batch_size):
        xb = probe_x[i : i + batch_size]
        total += float(convergence_criterion(model.trajectory(xb).residuals[:, -2:])) * len(xb)
        n += len(xb)
    return total / n


@torch.no_grad()
def remove_last_layers(
    model: nn.Module, k: int = 1, *, fold_probe: torch.Tensor | None = None, criterion: float | None = None,
    epoch: int | None = None,
) -> tuple[nn.Module, PruneRecord]:
    """Remove the last ``k`` layers (blocks: :func:`resdyn.surgery.truncate`, the same code for a
    DenseResNet and for a model whose blocks are one ``nn.ModuleList``). Returns a new model and a
    record; ``model`` is untouched.

    Args:
        k: layers to remove, 1 <= k < depth.
        fold_probe: inputs (n, N), DenseResNet only. If given, the removed layers' mean contribution
            to x(T) on these inputs, sum of y(t) for the removed t, is folded into the read-out bias,
            so that logits are unchanged wherever those residuals do not depend on the input.
    """
    depth = model_depth(model)
    if not isinstance(k, int) or not 1 <= k < depth:
        raise ValueError(f"k must be an integer in [1, {depth - 1}] for a model of depth {depth}, got {k!r}.")
    if fold_probe is not None and not isinstance(model, DenseResNet):
        raise ValueError(f"fold_probe folds into a DenseResNet's read-out; {type(model).__name__} has none: "
                         "pass fold_probe=None (AdaptiveDepthConfig(fold_bias=False)).")
    new_depth = depth - k
    new = surgery.truncate(model, None, new_depth)
    if fold_probe is not None:
        removed = model.trajectory(fold_probe).residuals[:, new_depth:]  # (n, k, N)
        shift = removed.sum(dim=1).mean(dim=0)  # mean over samples of sum over removed layers, (N,)
        new.readout.bias += model.readout.weight @ shift
    record = PruneRecord(
        depth_before=depth,
        depth_after=new_depth,
        removed_layers=tuple(range(new_depth + 1, depth + 1)),
        criterion=criterion,
        epoch=epoch,
        folded_bias=fold_probe is not None,
    )
    return new, record


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


def check_depth(model: nn.Module, probe: torch.Tensor, config: AdaptiveDepthConfig, *,
                epoch: int | None = None) -> DepthCheck:
    """The paper's check after an epoch: while the criterion on ``probe`` is below the threshold,
    remove the last layer (at most ``config.max_removals_per_check``, never below ``min_depth``).
    ``model`` is not changed. Any model whose residual blocks are one ``nn.ModuleList`` or
    ``nn.Sequential`` goes through the same code as a DenseResNet (see :func:`model_depth`)."""
    criterion = c = depth_criterion(model, probe)
    removed: list[PruneRecord] = []
    while c < config.threshold and model_depth(model) > config.min_depth and len(removed) < config.max_removals_per_check:
        model, record = remove_last_layers(model, 1, fold_probe=probe if config.fold_bias else None,
                                           criterion=c, epoch=epoch)
        removed.append(record)
        c = depth_criterion(model, probe)  # defined: the depth is still >= min_depth >= 2
    return DepthCheck(criterion=criterion, removed=removed, model=model)
