"""Removing blocks from a trained model, the ground truth the layer criteria try to predict.

- :func:`lesion` skips residual branches at inference (Veit et al. 2016): block t's output becomes
  its shortcut, P x(t) (torchvision ``downsample``) or x(t), so shapes hold also at a
  downsampling block;
- :func:`truncate` keeps the first k blocks of a stage;
- :data:`ANY`: the paper's adaptive-depth rule (:func:`resdyn.core.pruning.check_depth`) on any model
  whose residual blocks are one ``nn.ModuleList``/``nn.Sequential`` (the MNIST-1D zoo's nets),
  the criterion measured on the traced blocks (:func:`block_criterion`);

Every function returns a new model (a deep copy); the model passed in is untouched. Blocks are
named as in :mod:`resdyn.lib.blocks`; a :class:`resdyn.core.model.DenseResNet` takes ``blocks=None`` and
is handled through its own structure (shared weights: one module for all T layers).
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from resdyn.core import pruning
from resdyn.lib.blocks import find_block_containers, resolve_blocks, shortcut_of
from resdyn.core.model import DenseResNet
from resdyn.core.pruning import PruneRecord
from resdyn.lib.trace import trace

_CONTAINERS = (nn.ModuleList, nn.Sequential)


class Shortcut(nn.Module):
    """What a lesioned block becomes: x -> P x with ``projection`` P, or x -> x where it is None.
    Arguments after the input (masks and the like) are accepted and ignored."""

    def __init__(self, projection: nn.Module | None = None):
        super().__init__()
        self.projection = projection

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        return x if self.projection is None else self.projection(x)


class LesionedDenseResNet(nn.Module):
    """A DenseResNet whose layers ``skipped`` (0-based) add no residual: x(t+1) = x(t) there.

    Holds its own copy of the model (``.model``): with shared weights the one W, b stays and is
    still used by the other layers, so a layer cannot be skipped by replacing a module.
    """

    def __init__(self, model: DenseResNet, skipped: Sequence[int]):
        super().__init__()
        self.model = copy.deepcopy(model)
        self.skipped = frozenset(skipped)

    @property
    def depth(self) -> int:
        return self.model.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_classes): DenseResNet.forward without the skipped layers' residuals."""
        model = self.model
        if x.ndim != 2 or x.shape[1] != model.config.width:
            raise ValueError(f"x must have shape (batch, {model.config.width}), got {tuple(x.shape)}.")
        for t in range(model.depth):
            if t not in self.skipped:
                x = x + model.f(model.layer(t)(x))
        return model.readout(x)


def lesion(model: nn.Module, blocks, t: int | Sequence[int]) -> nn.Module:
    """A copy of ``model`` in which block ``t`` (or each block of a list of t) is skipped.

    Args:
        blocks: the blocks (:mod:`resdyn.lib.blocks`; None to find them); t indexes them in that
            order, 0-based. A block that forward calls several times is skipped at every call.
        t: block index in [0, T), or a sequence of them (lesion several blocks in one call: a
            lesioned copy's blocks are no longer all of one class, so blocks=None would not find
            them again).
    Returns a new model: each lesioned block replaced by a :class:`Shortcut` holding its projection
    (``downsample``/``shortcut``, a copy) or the identity; a DenseResNet gives a
    :class:`LesionedDenseResNet` (as does a LesionedDenseResNet, with the union of the layers).
    The shortcut is applied to the block's input: not right for pre-activation blocks that
    project the normalized input.
    """
    if isinstance(model, (DenseResNet, LesionedDenseResNet)):
        _check_dense_blocks(blocks)
        layers = _indices(t, model.depth)
        if isinstance(model, LesionedDenseResNet):
            return LesionedDenseResNet(model.model, model.skipped | set(layers))
        return LesionedDenseResNet(model, layers)
    resolved = resolve_blocks(model, blocks)
    new = copy.deepcopy(model)
    for i in _indices(t, len(resolved)):
        name = resolved[i][0]
        _replace(new, name, Shortcut(shortcut_of(new.get_submodule(name))))
    return new


def truncate(model: nn.Module, blocks, k: int) -> nn.Module:
    """A copy of ``model`` keeping the first ``k`` blocks of a stage and dropping the rest.

    Args:
        blocks: the ``nn.ModuleList``/``nn.Sequential`` holding the stage's blocks (path or
            module), or None where the model has one such container; None for a DenseResNet.
        k: blocks to keep, 1 <= k <= the stage's length.
    A DenseResNet gives ``model.truncated(k)`` (its depth becomes k; shared weights keep the module).
    """
    if isinstance(model, DenseResNet):
        _check_dense_blocks(blocks)
        _check_k(k, model.depth)
        return model.truncated(k)
    path, container = _container(model, blocks)
    _check_k(k, len(container))
    new = copy.deepcopy(model)
    kept = new.get_submodule(path)[:k] if path else new[:k]
    return kept if not path else _replace(new, path, kept)


def stage_length(model: nn.Module, blocks=None) -> int:
    """The number of blocks in the stage :func:`truncate` cuts
    (``blocks`` as there): a DenseResNet's depth, else the length of the blocks' container."""
    if isinstance(model, DenseResNet):
        _check_dense_blocks(blocks)
        return model.depth
    return len(_container(model, blocks)[1])


@torch.no_grad()
def block_criterion(model: nn.Module, probe_x: torch.Tensor, *, batch_size: int = 1000) -> float:
    """The paper's criterion (:func:`resdyn.core.pruning.convergence_criterion`) of ``model`` on the inputs
    ``probe_x`` (n, ...): a DenseResNet's :func:`resdyn.core.pruning.depth_criterion`; any other model
    traced (:func:`resdyn.lib.trace.trace`) at its blocks, the last two layers of its last stage, each
    layer's output flattened."""
    if isinstance(model, DenseResNet):
        return pruning.depth_criterion(model, probe_x)
    depth = stage_length(model)
    if depth < 2:
        raise ValueError(f"the criterion needs depth >= 2, the model has depth {depth}.")
    residuals = trace(model, probe_x, batch_size=batch_size).stages[-1].residuals
    return float(pruning.convergence_criterion(residuals[:, -2:].flatten(2)))


@torch.no_grad()
def remove_last_blocks(model: nn.Module, k: int = 1, *, fold_probe: torch.Tensor | None = None,
                       criterion: float | None = None, epoch: int | None = None) -> tuple[nn.Module, PruneRecord]:
    """:func:`resdyn.core.pruning.remove_last_layers` for any model whose blocks are one container
    (:func:`truncate`); ``fold_probe`` (n, N) for a DenseResNet only."""
    if isinstance(model, DenseResNet):
        return pruning.remove_last_layers(model, k, fold_probe=fold_probe, criterion=criterion, epoch=epoch)
    if fold_probe is not None:
        raise ValueError(f"fold_probe folds into a DenseResNet's read-out; {type(model).__name__} has none: "
                         "pass fold_probe=None (AdaptiveDepthConfig(fold_bias=False)).")
    depth = stage_length(model)
    if not isinstance(k, int) or not 1 <= k < depth:
        raise ValueError(f"k must be an integer in [1, {depth - 1}] for a model of depth {depth}, got {k!r}.")
    return truncate(model, None, depth - k), PruneRecord.removal(depth, depth - k, criterion, epoch)


#: The adaptive-depth rule on any model with one container of residual blocks (a DenseResNet included).
ANY = pruning.DepthRule(stage_length, block_criterion, remove_last_blocks)


#: What :func:`intervene` can change in the deep layers, and what each means.
INTERVENTIONS = {
    "centred": "each unit's pre-activation z centred over the inputs (b <- b - mean z), weights kept",
    "layer1_norm": "each W(t) rescaled to layer 1's Frobenius norm, biases kept",
    "halved": "each W(t) halved, biases kept",
}


@torch.no_grad()
def intervene(model: DenseResNet, x: torch.Tensor, kind: str, *, from_layer: int) -> DenseResNet:
    """A copy of ``model`` with one of :data:`INTERVENTIONS` applied to layers ``from_layer``..T
    (1-based, as the paper counts them); the copy has one weight matrix per layer, also where
    ``model`` shares them. ``"centred"`` sets b(t) so that z(t) = W(t) x(t-1) + b(t) has mean 0
    over the rows of ``x`` (n, N) for every unit, layer by layer (each layer on the states the
    already changed layers give). ``model`` is untouched."""
    if kind not in INTERVENTIONS:
        raise ValueError(f"kind must be one of {', '.join(INTERVENTIONS)}, got {kind!r}.")
    if not isinstance(model, DenseResNet):
        raise ValueError(f"intervene changes a DenseResNet's layers, got {type(model).__name__}.")
    if not isinstance(from_layer, int) or not 1 <= from_layer <= model.depth:
        raise ValueError(f"from_layer must be a layer in [1, {model.depth}], got {from_layer!r}.")
    new = copy.deepcopy(model)
    if model.config.shared_weights:  # one module per layer, so that deep layers can change alone
        new.blocks = nn.ModuleList(copy.deepcopy(model.blocks[0]) for _ in range(model.depth))
        new.config = replace(model.config, shared_weights=False)
    norm1 = new.layer(0).weight.norm()
    state = x
    for t in range(model.depth):
        layer = new.layer(t)
        if t + 1 >= from_layer:
            if kind == "layer1_norm":
                layer.weight.mul_(norm1 / layer.weight.norm())
            elif kind == "halved":
                layer.weight.mul_(0.5)
            else:
                layer.bias.sub_((state @ layer.weight.T + layer.bias).mean(0))
        y = new.f(layer(state))
        state = state + y if new.config.residual else y
    return new


# -- helpers ----------------------------------------------------------------------------------
def _container(model: nn.Module, blocks) -> tuple[str, nn.Module]:
    """(path, container) of the ModuleList/Sequential that ``blocks`` names or that holds the blocks."""
    if blocks is None:
        found = find_block_containers(model)
        if len(found) != 1:
            names = [name for name, _ in found]
            raise ValueError(
                f"blocks=None: {type(model).__name__} holds its blocks in {len(found)} containers {names}; "
                "name the stage, e.g. blocks='layer1'."
            )
        return found[0]
    resolved = resolve_blocks(model, blocks) if isinstance(blocks, (str, nn.Module)) else []
    if len(resolved) != 1 or not isinstance(resolved[0][1], _CONTAINERS):
        got = [f"{name} ({type(module).__name__})" for name, module in resolved] or type(blocks).__name__
        raise ValueError(
            f"blocks={blocks!r} must name one nn.ModuleList or nn.Sequential of blocks (a stage, e.g. "
            f"'layer1'), got {got}."
        )
    return resolved[0]


def _replace(root: nn.Module, path: str, module: nn.Module) -> nn.Module:
    """Put ``module`` at ``path`` in ``root`` (in place); returns root."""
    parent, _, attribute = path.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, attribute, module)
    return root


def _indices(t, T: int) -> tuple[int, ...]:
    values = [t] if isinstance(t, int) else list(t) if isinstance(t, Sequence) else None
    if not values or any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < T for v in values):
        raise ValueError(f"t must be a block index in [0, {T - 1}] or a list of them, got {t!r}.")
    return tuple(sorted(set(values)))


def _check_k(k, length: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= length:
        raise ValueError(f"k must be an integer in [1, {length}] (blocks to keep of {length}), got {k!r}.")


def _check_dense_blocks(blocks) -> None:
    if blocks is not None:
        raise ValueError(f"blocks={blocks!r}: a DenseResNet's layers are set by its structure; pass blocks=None.")
