"""Which modules of a model are its residual blocks, and what their shortcuts are.

Shared by :mod:`resdyn.lib.trace` (recording) and :mod:`resdyn.lib.surgery` (lesion, truncate). A *block*
maps x(t) to x(t+1) = P x(t) + y(t+1), where the shortcut P is the identity or a projection module
held by the block in one of :data:`SHORTCUT_ATTRIBUTES` (torchvision's BasicBlock/Bottleneck:
``downsample``; many CIFAR ResNets: ``shortcut``). An ``nn.Identity`` or empty ``nn.Sequential``
there counts as the identity.

``blocks`` arguments accept:

- a module path, ``"layer1.0"`` (a name from ``model.named_modules()``);
- a glob, ``"layer*.*"`` or ``"blocks.*"``, matched with :func:`fnmatch.fnmatchcase` against
  every module name with as many dots as the pattern: a ``*`` does not cross a ``.``, so
  ``"blocks.*"`` gives ``blocks.0, blocks.1, ...`` and not their submodules;
- a module of the model, or a list mixing paths, globs and modules (in the order given);
- ``None``: found automatically by :func:`find_block_containers`.
"""
from __future__ import annotations

import difflib
import fnmatch

from torch import nn

#: Attributes of a block that may hold its projection shortcut P.
SHORTCUT_ATTRIBUTES = ("downsample", "shortcut")
_CONTAINERS = (nn.ModuleList, nn.Sequential)


def shortcut_of(block: nn.Module) -> nn.Module | None:
    """The block's projection shortcut P (a module), or None where the shortcut is the identity."""
    for attribute in SHORTCUT_ATTRIBUTES:
        module = getattr(block, attribute, None)
        if isinstance(module, nn.Module) and not _is_identity(module):
            return module
    return None


def find_block_containers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The ``nn.ModuleList``/``nn.Sequential`` containers that hold the model's residual blocks.

    Found from the structure alone (no forward pass): a container qualifies when all its children
    are of one class and that class is composite (has submodules) and is not itself a container;
    qualifying containers are grouped by that class and the group with most blocks in total wins
    (ties: the first in module order). ``DenseResNet.blocks`` (``nn.Linear`` leaves) does not
    qualify: :mod:`resdyn.lib.trace` and :mod:`resdyn.lib.surgery` handle a DenseResNet by its own methods.
    torchvision's ``resnet18`` gives ``layer1`` ... ``layer4`` (8 BasicBlocks), an
    ``nn.TransformerEncoder`` its ``layers``. Returns (path, container) pairs in module order.
    """
    groups: dict[type, list[tuple[str, nn.Module]]] = {}
    for name, container in model.named_modules():
        if not isinstance(container, _CONTAINERS) or len(container) == 0:
            continue
        kinds = {type(child) for child in container.children()}
        if len(kinds) != 1:
            continue
        kind = kinds.pop()
        first = next(iter(container.children()))
        if issubclass(kind, _CONTAINERS) or next(first.children(), None) is None:
            continue
        groups.setdefault(kind, []).append((name, container))
    if not groups:
        return []
    return max(groups.values(), key=lambda group: sum(len(c) for _, c in group))


def resolve_blocks(model: nn.Module, blocks=None) -> list[tuple[str, nn.Module]]:
    """The blocks that ``blocks`` names (see the module docstring), as (path, module) pairs.

    Raises ValueError naming the argument, the value and the nearest module names where a path or
    glob matches nothing, TypeError for an entry of another type.
    """
    if blocks is None:
        found = [(_join(name, child_name), child) for name, container in find_block_containers(model)
                 for child_name, child in container.named_children()]
        if not found:
            raise ValueError(
                f"blocks=None: found no residual blocks in {type(model).__name__} (no nn.ModuleList or "
                "nn.Sequential of composite modules of one class); pass blocks= as module paths or a glob, "
                "e.g. blocks='layers.*'."
            )
        return found
    specs = [blocks] if isinstance(blocks, (str, nn.Module)) else list(blocks)
    if not specs:
        raise ValueError("blocks is an empty list; pass module paths, a glob, modules, or None to find them.")
    names = {id(module): name for name, module in model.named_modules()}
    by_name = dict(model.named_modules())
    resolved: list[tuple[str, nn.Module]] = []
    for spec in specs:
        for pair in _resolve_one(model, spec, names, by_name):
            if all(pair[1] is not module for _, module in resolved):
                resolved.append(pair)
    return resolved


def _resolve_one(model, spec, names: dict, by_name: dict) -> list[tuple[str, nn.Module]]:
    if isinstance(spec, nn.Module):
        if id(spec) not in names or spec is model:
            raise ValueError(
                f"blocks: the {type(spec).__name__} given is not a submodule of the model; pass modules "
                "taken from this model (e.g. model.layer1[0]) or their paths."
            )
        return [(names[id(spec)], spec)]
    if not isinstance(spec, str):
        raise TypeError(f"blocks entries must be module paths, globs or modules, got {type(spec).__name__} {spec!r}.")
    candidates = [name for name in by_name if name]
    if any(char in spec for char in "*?["):
        depth = spec.count(".")
        matched = [(name, by_name[name]) for name in candidates
                   if name.count(".") == depth and fnmatch.fnmatchcase(name, spec)]
        if matched:
            return matched
        raise ValueError(f"blocks={spec!r} matches no module name{_nearest(spec, candidates)}")
    if spec in by_name and spec:
        return [(spec, by_name[spec])]
    raise ValueError(f"blocks={spec!r} is not a module path of {type(model).__name__}{_nearest(spec, candidates)}")


def _nearest(spec: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(spec, candidates, n=5, cutoff=0.5)
    if not close:
        close = candidates[:5]
    return f"; nearest names: {', '.join(map(repr, close))}. Use a name from model.named_modules()."


def _is_identity(module: nn.Module) -> bool:
    return isinstance(module, nn.Identity) or (isinstance(module, _CONTAINERS) and len(module) == 0)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
