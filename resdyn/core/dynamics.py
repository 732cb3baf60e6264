"""Statistics of the residual dynamics (Fig. 1A-1C; the embedding of Fig. 1D is :mod:`resdyn.lib.embedding`). Plain functions: tensors in, named results out.

Axes follow :class:`resdyn.core.model.Trajectory`: residuals are (samples, T, N) with layer t+1 at
index t; states are (samples, T+1, N) with the input at index 0. No function changes its inputs.
The statistics also take the residuals of any residual model (:func:`resdyn.lib.trace.trace`), whose
blocks output (n, *shape) (conv feature maps, tokens): residuals (n, T, *shape), each layer's
output flattened to F = prod(shape) features, (n, T, F). A (n, T, N) tensor is used as it is.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from resdyn.core.model import DenseResNet, Trajectory


@torch.no_grad()
def collect_trajectory(model: DenseResNet, x: torch.Tensor, *, batch_size: int | None = 1000) -> Trajectory:
    """:func:`batched_trajectory` in eval mode, without gradients (the model's mode restored).

    Args: x (n, N), on any device. Returns states (n, T+1, N), residuals (n, T, N), logits (n, C)."""
    was_training = model.training
    model.eval()
    try:
        return batched_trajectory(model, x, batch_size)
    finally:
        model.train(was_training)


def batched_trajectory(model: DenseResNet, x: torch.Tensor, batch_size: int | None = None) -> Trajectory:
    """:meth:`DenseResNet.trajectory` over ``x`` (n, N), ``batch_size`` samples at a time, in the
    model's mode and the caller's gradient setting: the dense net's one trajectory function.

    With ``batch_size=None`` (or >= n) and ``x`` on the model's device it is ``model.trajectory(x)``
    itself. Else each batch is written into its rows of states (n, T+1, N), residuals (n, T, N) and
    logits (n, C) on ``x``'s device, stored layer by layer like ``trajectory``'s (copied there where
    ``out=`` cannot be used: with gradients, or the model on another device)."""
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"batch_size must be None (one batch) or an integer >= 1, got {batch_size!r}.")
    device = next(model.parameters()).device
    n, step = len(x), batch_size or len(x)
    if step >= n and x.device == device:
        return model.trajectory(x)
    T, N = model.depth, model.config.width
    whole = Trajectory(x.new_empty(T + 1, n, N).transpose(0, 1), x.new_empty(T, n, N).transpose(0, 1),
                       x.new_empty(n, model.config.n_classes))
    for i in range(0, n, step):
        rows = Trajectory(*(part[i : i + step] for part in whole))
        if x.device == device and not torch.is_grad_enabled():
            model.trajectory(x[i : i + step], out=rows)
        else:
            for dst, src in zip(rows, model.trajectory(x[i : i + step].to(device))):
                dst.copy_(src)
    return whole


@dataclass(frozen=True)
class ClassResidualStats:
    """Per-class statistics of the residuals across samples.

    classes: (C,) class labels; counts: (C,) samples per class;
    mean, std: (C, T, N), over the samples of each class, per layer and neuron (std with n - 1); for
    residuals (n, T, *shape), N = F = prod(shape), the flattened features."""

    classes: torch.Tensor
    counts: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    @property
    def layer_std(self) -> torch.Tensor:
        """(C, T): the across-sample standard deviation averaged over neurons."""
        return self.std.mean(dim=2)

    @property
    def std_profile(self) -> torch.Tensor:
        """(T,): :attr:`layer_std` averaged over classes."""
        return self.layer_std.mean(dim=0)

    @property
    def change_profile(self) -> torch.Tensor:
        """(T-1,): how much the class-mean residual changes from layer t to t+1, mean over classes and
        neurons of |mean(t+1) - mean(t)|; entry t-1 is the change from layer t to layer t+1."""
        return (self.mean[:, 1:] - self.mean[:, :-1]).abs().mean(dim=(0, 2))


def class_residual_stats(residuals: torch.Tensor, labels: torch.Tensor) -> ClassResidualStats:
    """Mean and standard deviation of the residuals over the samples of each class (Fig. 1A, 1B).

    Args:
        residuals: (n, T, N), or (n, T, *shape); each layer's output is flattened to (n, T, F).
        labels: (n,) integer class labels; every class needs at least 2 samples."""
    _check_residuals(residuals, labels)
    residuals = _flat_layers(residuals)
    classes = torch.unique(labels)
    means, stds, counts = [], [], []
    for c in classes:
        r = residuals[labels == c].double()
        if len(r) < 2:
            raise ValueError(f"class {int(c)} has {len(r)} sample; the standard deviation needs at least 2.")
        means.append(r.mean(dim=0).float())
        stds.append(r.std(dim=0).float())
        counts.append(len(r))
    return ClassResidualStats(classes, torch.tensor(counts), torch.stack(means), torch.stack(stds))


def settling_layer(profile: torch.Tensor, *, fraction: float = 0.05, absolute: float | None = None) -> int | None:
    """The first layer (1-based) from which ``profile`` stays below ``fraction`` of its peak, or
    below ``absolute`` if that is given (e.g. the paper's scale of 0.01 per neuron).

    Args:
        profile: (T,) a per-layer quantity, e.g. :attr:`ClassResidualStats.std_profile` (the spread
            across samples) or :attr:`ClassResidualStats.change_profile` (the change of the class
            means from one layer to the next).
    Returns:
        t in 1..T, or ``None`` if the last layer is still at or above the threshold."""
    profile = torch.as_tensor(profile)
    if profile.ndim != 1 or len(profile) == 0:
        raise ValueError(f"profile must have shape (T,), got {tuple(profile.shape)}.")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}.")
    if absolute is not None and not absolute > 0:
        raise ValueError(f"absolute must be None or a number > 0, got {absolute!r}.")
    threshold = absolute if absolute is not None else fraction * profile.max()
    below = (profile < threshold).tolist()
    if not below[-1]:
        return None
    t = len(below)
    while t > 1 and below[t - 2]:
        t -= 1
    return t


@dataclass(frozen=True)
class TrajectoryDistances:
    """l2 distances between whole residual trajectories (Fig. 1C).

    distances: (n, n) between flattened trajectories (T * N values each; T * F for (n, T, *shape));
    labels: (n,) the samples' classes, in the matrix's order; classes: (C,);
    class_mean: (C, C) mean distance between samples of class a and class b (a == b: i != j only);
    within: (C,) diagonal of ``class_mean``; between: (C,) mean distance from a class to all others;
    ratio: (C,) within / between (below 1: a class's trajectories are closer to each other)."""

    distances: torch.Tensor
    labels: torch.Tensor
    classes: torch.Tensor
    class_mean: torch.Tensor
    within: torch.Tensor
    between: torch.Tensor
    ratio: torch.Tensor


def trajectory_distances(residuals: torch.Tensor, labels: torch.Tensor) -> TrajectoryDistances:
    """Pairwise l2 distances between the flattened residual trajectories and their class summary.

    Args:
        residuals: (n, T, N), or (n, T, *shape); each layer's output is flattened to (n, T, F) (and
            the whole trajectory to T * F values); labels: (n,)."""
    _check_residuals(residuals, labels)
    # one float64 copy, whatever the layout (collect_trajectory's is layer-major)
    flat = torch.empty(residuals.shape, dtype=torch.float64, device=residuals.device).copy_(residuals)
    flat = flat.view(len(residuals), -1)
    sq = (flat * flat).sum(1)
    d2 = (sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T).clamp_min_(0.0)
    d2.fill_diagonal_(0.0)
    distances = d2.sqrt()
    classes = torch.unique(labels)
    onehot = (labels[:, None] == classes[None, :]).double()  # (n, C)
    sums = onehot.T @ distances @ onehot  # (C, C) sums of distances between class pairs
    counts = onehot.sum(0)
    pairs = counts[:, None] * counts[None, :] - torch.diag(counts)  # a == b: exclude i == j
    class_mean = sums / pairs
    within = torch.diagonal(class_mean).clone()
    off_sums = sums.sum(1) - torch.diagonal(sums)
    between = off_sums / (counts * (counts.sum() - counts))
    return TrajectoryDistances(distances=distances.float(), labels=labels.clone(), classes=classes, class_mean=class_mean.float(),
                               within=within.float(), between=between.float(), ratio=(within / between).float())


def _check_residuals(residuals: torch.Tensor, labels: torch.Tensor) -> None:
    if not isinstance(residuals, torch.Tensor) or residuals.ndim < 3:
        got = tuple(residuals.shape) if isinstance(residuals, torch.Tensor) else type(residuals).__name__
        raise ValueError(f"residuals must have shape (n, T, N), got {got}: n samples, T layers, N features; "
                         "or (n, T, *shape), each layer's output flattened to N = prod(shape) features "
                         "(for one layer's (n, N) add the axis: r[:, None]).")
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be a tensor ({len(residuals)},) of class labels, got {type(labels).__name__}.")
    if labels.ndim != 1 or len(labels) != len(residuals):
        raise ValueError(f"labels must have shape ({len(residuals)},) to match residuals, got {tuple(labels.shape)}.")


def _flat_layers(residuals: torch.Tensor) -> torch.Tensor:
    """(n, T, *shape) -> (n, T, F): each layer's output flattened. A (n, T, N) tensor is returned
    as it is (the same object), so that the dense nets' statistics do not depend on this reshaping."""
    if residuals.ndim == 3:
        return residuals
    return residuals.reshape(*residuals.shape[:2], -1)
