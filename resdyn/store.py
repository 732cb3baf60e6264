"""Persistence of trained nets: the cache key, one save format for checkpoints and finished nets,
atomic writes, and loading that survives a damaged file.

A cache entry is a folder ``<cache>/models/<key>/`` named by a hash of everything that determines
the net. It holds ``final.pt`` once training has finished, and ``checkpoint.pt`` (the same format
plus the optimizer state) while it runs. A file that cannot be read back (truncated by a full disk
or a killed process, overwritten, written by another version) is never fatal: :func:`load` moves it
aside to ``<name>.corrupt``, says so with a :class:`CacheWarning` naming both paths, and the caller
trains again. So is an entry that holds another net than its key promises (copied, swapped,
or written by older code under the same key): :func:`load` with ``expect=`` compares the stored
settings with the requested ones and sets a mismatch aside the same way.

Code drift: the cache key holds :data:`CACHE_VERSION`, and ``tests/test_store.py`` fingerprints
the code that determines a trained net (:data:`TRAINING_CODE`); when that code changes, the test
fails until the fingerprint is updated, with :data:`CACHE_VERSION` bumped if trained nets change.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import torch

from . import paths
from .files import atomic_write
from .model import DenseResNet, ModelConfig

#: Bump when a change to the training code changes what a given configuration produces.
CACHE_VERSION = 3
#: The modules whose code determines what a configuration trains to (fingerprinted by the tests).
TRAINING_CODE = ("model.py", "train.py", "trainconfig.py", "checkpoints.py", "pruning.py", "data.py")
#: The layout of a saved file (see :func:`save`).
FORMAT = 2
_KEYS = ("format", "model_config", "model_state", "history", "pruning", "train_config", "adaptive", "test_acc",
         "initial_criterion")


class CacheWarning(UserWarning):
    """A cache entry or checkpoint could not be read and was set aside."""


def cache_key(data, model_config: ModelConfig, config, adaptive=None) -> str:
    """A hash of everything that determines a trained net: data, model, training (with
    ``precision="auto"`` resolved to what this machine runs), adaptive depth."""
    spec = {
        "version": CACHE_VERSION,
        "data": data.spec(),
        "model": model_config.to_dict(),
        "train": config.resolved().to_dict(),
        "adaptive": None if adaptive is None else adaptive.to_dict(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def entry_dir(data, model_config: ModelConfig, config, adaptive=None) -> Path:
    """The cache folder of one net (it may not exist yet)."""
    return paths.cache_dir() / "models" / cache_key(data, model_config, config, adaptive)


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` whole or not at all (:func:`resdyn.files.atomic_write`): a reader sees the old
    file or the new, never half."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save(path, *, model: DenseResNet, history, pruning, config, adaptive=None, optimizer=None,
         test_acc: float | None = None, initial_criterion: float | None = None, data_spec: dict | None = None) -> Path:
    """Write a net in the one save format.

    ``history``: the epoch records (dataclasses); ``pruning``: :class:`resdyn.pruning.PruneRecord`s;
    ``config``/``adaptive``: the training settings it was trained with; ``optimizer``: given for a
    checkpoint (to resume), omitted for a finished net; ``test_acc``: the finished net's test
    accuracy (measured once); ``initial_criterion``: the adaptive criterion before training;
    ``data_spec``: the data it was trained on (finished nets; an extra key, so format 2 still reads).
    """
    return atomic_save({
        "format": FORMAT,
        "model_config": model.config.to_dict(),
        "model_state": model.state_dict(),
        "history": [r.to_dict() for r in history],
        "pruning": [p.to_dict() for p in pruning],
        "train_config": config.to_dict(),
        "adaptive": None if adaptive is None else adaptive.to_dict(),
        "optimizer_state": None if optimizer is None else optimizer.state_dict(),
        "test_acc": test_acc,
        "initial_criterion": initial_criterion,
        **({} if data_spec is None else {"data_spec": data_spec}),
    }, path)


def settings(model_config: ModelConfig, config, adaptive=None, data_spec: dict | None = None) -> dict:
    """What a save file must hold for a request: the model, training and adaptive settings as saved,
    and the data's spec (``data_spec``, :meth:`resdyn.data.Dataset.spec`) where given."""
    out = {"model_config": model_config.to_dict(), "train_config": config.to_dict(),
           "adaptive": None if adaptive is None else adaptive.to_dict()}
    return out if data_spec is None else {**out, "data_spec": data_spec}


def mismatch(saved: dict, expect: dict) -> str | None:
    """How ``saved`` differs from the requested settings ``expect`` (:func:`settings`), or None.
    An adaptive run's model may be shallower than requested (layers went); nothing else may differ."""
    for key, want in expect.items():
        if key == "data_spec" and key not in saved:  # written before finished nets stored their data's spec
            continue
        got = saved.get(key)
        if key == "model_config" and expect.get("adaptive") is not None and isinstance(got, dict):
            got = {**got, "depth": want["depth"]} if got.get("depth", 0) <= want["depth"] else got
        if got != want:
            return f"{key} {got} where {want} was asked for"
    return None


def load(path, *, map_location="cpu", expect: dict | None = None) -> dict | None:
    """The saved dict at ``path`` with its model rebuilt under ``"model"``, or ``None`` if there is
    no file, it cannot be read, or it holds other settings than ``expect`` (:func:`settings`); then
    it is moved aside, with a :class:`CacheWarning` that says why."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
        missing = [k for k in _KEYS if not isinstance(saved, dict) or k not in saved]
        if missing:
            raise ValueError(f"not a resdyn save file (missing {', '.join(missing)})")
        if saved["format"] != FORMAT:
            raise ValueError(f"save format {saved['format']}, this version reads format {FORMAT}")
        model = DenseResNet(ModelConfig(**saved["model_config"]))
        model.load_state_dict(saved["model_state"])
    except Exception as exc:  # truncated zip, unpickling error, wrong keys or shapes: the file is the problem
        reason = (str(exc).strip().splitlines() or [""])[0][:200]  # torch's messages run to many lines
        if "weights only" in reason.lower() or "weights_only" in reason:  # torch's advice would be unsafe here
            reason = "it holds objects a resdyn save never contains, so it is not a resdyn save file"
        return _discard(path, f"could not be read ({type(exc).__name__}: {reason})")
    wrong = mismatch(saved, expect) if expect is not None else None
    if wrong is not None:
        return _discard(path, f"holds another net than this entry is for ({wrong})")
    saved["model"] = model.to(map_location)
    return saved


def _discard(path: Path, why: str) -> None:
    aside = set_aside(path)
    warnings.warn(f"resdyn cache: {path} {why}; moved it to {aside}. The net is trained again.", CacheWarning,
                  stacklevel=3)
    return None


def set_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.corrupt`` (``.corrupt2``, ... if taken) and return the new path."""
    n, aside = 1, path.with_name(path.name + ".corrupt")
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt{n}")
    os.replace(path, aside)
    return aside
