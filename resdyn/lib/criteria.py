"""Layer-wise criteria on a trajectory: how much each block changes the signal.

Plain functions, tensors in, tensors out. Axes as in :class:`resdyn.core.model.Trajectory` and a
:class:`resdyn.lib.trace.Stage`:

- ``states``    (n, T+1, *shape): ``states[:, t]`` is x(t), the input of block t+1; x(0) the first
  block's input;
- ``residuals`` (n, T, *shape):   ``residuals[:, t-1]`` is y(t) = x(t) - x(t-1).

``*shape`` is any block shape, (N,) dense, (C, H, W) conv, (tokens, d) transformer: each state is
flattened to one vector of prod(shape) features per sample, except where ``per_token=True`` asks
for a cosine per token (states (n, T+1, tokens, d); cosines over d, averaged over tokens). Every
result is float64, computed a layer at a time in float64 (no copy of the whole trajectory).
Vectors of norm 0 count as norm 1e-12 in cosines (as ``torch.nn.functional.cosine_similarity``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from resdyn.core import pruning

_EPS = 1e-12


def convergence_profile(residuals: torch.Tensor) -> torch.Tensor:
    """The paper's criterion at every depth, :func:`resdyn.core.pruning.convergence_profile` in float64:
    c(t) = mean over samples and features of |y(t) - y(t-1)|.

    Lagzi (arXiv 2101.03009, Sec. 5): the last layer goes when c(T) < 0.01.
    Args: residuals (n, T, *shape), T >= 2. Returns (T-1,); entry t-2 is c(t), the last c(T).
    """
    _check(residuals, "residuals", min_layers=2)
    return torch.stack([pruning.convergence_profile(residuals[:, t - 1 : t + 1], dtype=torch.float64)[0]
                        for t in range(1, residuals.shape[1])])  # a pair of layers at a time


def block_influence(states: torch.Tensor, *, per_token: bool = False) -> torch.Tensor:
    """ShortGPT's Block Influence (Men et al. 2024, arXiv 2403.03853): BI_t = 1 - E cos(x(t-1), x(t)),
    the input against the output of block t, mean over samples (and tokens with ``per_token``).

    0: the block keeps the direction of the signal; 1: makes it orthogonal; 2: reverses it.
    Args: states (n, T+1, *shape). Returns (T,); entry t-1 is BI of block t.
    """
    _check(states, "states", min_layers=2, per_token=per_token)
    return torch.stack([1 - _cosine(states, t - 1, t, per_token).mean() for t in range(1, states.shape[1])])


def angular_distance(states: torch.Tensor, span: int = 1, *, per_token: bool = False) -> torch.Tensor:
    """Gromov et al. 2024 (arXiv 2403.17887): d(x(l), x(l+n)) = arccos(cos(x(l), x(l+n))) / pi,
    mean over samples (and tokens with ``per_token``; they use the last token: trace with
    ``reduce_tokens=-1``), for the span n = ``span`` and every start l.

    Args: states (n, T+1, *shape); 1 <= span <= T. Returns (T+1-span,); entry l is d(x(l), x(l+n)):
    in [0, 1], 0 for parallel states, 1/2 orthogonal, 1 opposite.
    """
    _check(states, "states", min_layers=2, per_token=per_token)
    T = states.shape[1] - 1
    if not isinstance(span, int) or isinstance(span, bool) or not 1 <= span <= T:
        raise ValueError(f"span must be an integer in [1, {T}] for {T} blocks, got {span!r}.")
    return torch.stack([
        (torch.arccos(_cosine(states, l, l + span, per_token).clamp(-1, 1)) / math.pi).mean()
        for l in range(T + 1 - span)
    ])


@dataclass(frozen=True)
class SpanChoice:
    """Gromov et al.'s choice of n = ``span`` blocks to drop: those from x(start) to x(start + n),
    i.e. the blocks ``blocks`` (0-based: block b maps x(b) to x(b+1)), at angular ``distance``."""

    start: int
    span: int
    distance: float
    blocks: tuple[int, ...]


def best_drop_span(states: torch.Tensor, span: int, *, per_token: bool = False) -> SpanChoice:
    """The span of n blocks whose removal Gromov et al. 2024 choose: l* = argmin_l d(x(l), x(l+n))
    (:func:`angular_distance`; ties: the shallowest). Args: states (n, T+1, *shape)."""
    distances = angular_distance(states, span, per_token=per_token)
    start = int(torch.argmin(distances))
    return SpanChoice(start, span, float(distances[start]), tuple(range(start, start + span)))


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Linear CKA (Kornblith et al. 2019, arXiv 1905.00414) of two representations of n samples:
    ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F), X and Y column-centred.

    In [0, 1]; 1 for X against itself; unchanged by an orthogonal transform or an isotropic scaling
    of either; the widths may differ. Computed with n x n Gram matrices when n is below a width.
    Args: x (n, *a), y (n, *b), flattened to (n, p) and (n, q); n >= 2. Returns a 0-d tensor
    (nan where a representation is constant over the samples).
    """
    for name, z in (("x", x), ("y", y)):
        if not isinstance(z, torch.Tensor) or z.ndim < 1 or len(z) < 2:
            raise ValueError(f"{name} must be a tensor (n, ...) with n >= 2 samples, got "
                             f"{tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}.")
    if len(x) != len(y):
        raise ValueError(f"x and y must hold the same samples, got n = {len(x)} and {len(y)}.")
    X, Y = (z.reshape(len(z), -1).double() for z in (x, y))
    X, Y = X - X.mean(dim=0), Y - Y.mean(dim=0)
    if len(X) < min(X.shape[1], Y.shape[1]):  # ||Y^T X||_F^2 = <X X^T, Y Y^T>_F
        kx, ky = X @ X.T, Y @ Y.T
        return (kx * ky).sum() / (torch.linalg.matrix_norm(kx) * torch.linalg.matrix_norm(ky))
    cross = torch.linalg.matrix_norm(Y.T @ X) ** 2
    return cross / (torch.linalg.matrix_norm(X.T @ X) * torch.linalg.matrix_norm(Y.T @ Y))


def cka_profile(states: torch.Tensor) -> torch.Tensor:
    """Linear CKA between successive states, CKA(x(t-1), x(t)) over the n samples.
    Args: states (n, T+1, *shape). Returns (T,); entry t-1 is block t's."""
    _check(states, "states", min_layers=2)
    return torch.stack([linear_cka(states[:, t - 1], states[:, t]) for t in range(1, states.shape[1])])


def relative_residual(states: torch.Tensor, residuals: torch.Tensor) -> torch.Tensor:
    """How large each block's residual is against its input: mean over samples of |y(t)| / |x(t-1)|
    (l2 norms of the flattened tensors; inf where an input is 0).
    Args: states (n, T+1, *shape), residuals (n, T, *shape). Returns (T,); entry t-1 is block t's."""
    _check(states, "states", min_layers=2)
    _check(residuals, "residuals", min_layers=1)
    if states.shape[0] != residuals.shape[0] or states.shape[1] != residuals.shape[1] + 1 \
            or states.shape[2:] != residuals.shape[2:]:
        raise ValueError(f"states (n, T+1, *shape) and residuals (n, T, *shape) do not match: got "
                         f"{tuple(states.shape)} and {tuple(residuals.shape)}.")
    return torch.stack([
        (_layer(residuals, t - 1).norm(dim=1) / _layer(states, t - 1).norm(dim=1)).mean()
        for t in range(1, states.shape[1])
    ])


# -- helpers ----------------------------------------------------------------------------------
def _check(tensor, name: str, *, min_layers: int, per_token: bool = False) -> None:
    if not isinstance(tensor, torch.Tensor) or tensor.ndim < 3 or tensor.shape[1] < min_layers or len(tensor) == 0:
        got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        axis = "T+1" if name == "states" else "T"
        raise ValueError(f"{name} must be a tensor (n, {axis}, *shape) with n >= 1 and at least {min_layers} "
                         f"entries on axis 1, got {got}; pass a trajectory's {name} (for a (n, N) batch "
                         "of one layer add the axis: x[:, None]).")
    if per_token and tensor.ndim != 4:
        raise ValueError(f"per_token=True needs {name} (n, T+1, tokens, d), got {tuple(tensor.shape)}.")


def _layer(tensor: torch.Tensor, t: int) -> torch.Tensor:
    """(n, features) float64: layer t of a trajectory, flattened."""
    return tensor[:, t].reshape(len(tensor), -1).double()


def _cosine(states: torch.Tensor, a: int, b: int, per_token: bool) -> torch.Tensor:
    """(n,) or, per token, (n, tokens): cosines between states a and b."""
    if per_token:
        u, v = states[:, a].double(), states[:, b].double()
    else:
        u, v = _layer(states, a), _layer(states, b)
    u = u / u.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    v = v / v.norm(dim=-1, keepdim=True).clamp_min(_EPS)
    return (u * v).sum(dim=-1)
