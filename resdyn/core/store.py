"""Persistence of trained nets: the cache key, one save format for checkpoints and finished nets,
atomic writes, and loading that survives a damaged file.

A cache entry is a folder ``<cache>/models/<key>/`` named by a hash of everything that determines
the net. It holds ``final.pt`` once training has finished, and ``checkpoint.pt`` (the same format
plus the optimizer state) while it runs. A file that cannot be read back (truncated by a full disk
or a killed process, overwritten, written by another version) is never fatal: :func:`load` moves it
aside to ``<name>.corrupt``, says so with a :class:`CacheWarning` naming both paths, and the caller
trains again. So is an entry that holds another net than its key promises (copied, swapped,
or written by older code under the same key). Every file holds all that determines its net (the
data's spec, the model, the training settings, the adaptive rule); :func:`load` with ``expect=``
compares them with the requested ones and sets a mismatch, or a file that lacks any of them,
aside the same way.

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

from resdyn.core import paths
from resdyn.core.files import atomic_write
from resdyn.core.model import DenseResNet, ModelConfig

#: Bump when a change to the training code changes what a given configuration produces.
CACHE_VERSION = 4
#: The version in the key of a fixed-budget net (``patience=None``): 4 changed only runs to convergence
#: (they keep their best epoch), so these train bit for bit as under 3 and keep their entries.
FIXED_BUDGET_VERSION = 3
#: The modules whose code determines what a configuration trains to (fingerprinted by the tests).
TRAINING_CODE = ("core/model.py", "core/train.py", "core/trainconfig.py", "core/checkpoints.py", "core/pruning.py", "core/dynamics.py", "core/data.py")
#: The layout of a saved file (see :func:`save`).
FORMAT = 2
_KEYS = ("format", "model_config", "model_state", "history", "pruning", "train_config", "adaptive", "test_acc",
         "initial_criterion", "data_spec")
#: The keys of :data:`_KEYS` that determine the net (:func:`settings`, what :func:`cache_key` hashes).
_SETTINGS = ("model_config", "train_config", "adaptive", "data_spec")


class CacheWarning(UserWarning):
    """A cache entry or checkpoint could not be read and was set aside."""


def cache_key(data, model_config: ModelConfig, config, adaptive=None) -> str:
    """A hash of everything that determines a trained net: data, model, training (with
    ``precision="auto"`` resolved to what this machine runs), adaptive depth."""
    spec = {
        "version": key_version(config),
        "data": data.spec(),
        "model": model_config.to_dict(),
        "train": config.resolved().to_dict(),
        "adaptive": None if adaptive is None else adaptive.to_dict(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def key_version(config) -> int:
    """The cache version in the key of a net trained with ``config``: :data:`FIXED_BUDGET_VERSION` for a fixed budget."""
    return FIXED_BUDGET_VERSION if config.patience is None else CACHE_VERSION


def entry_dir(data, model_config: ModelConfig, config, adaptive=None) -> Path:
    """The cache folder of one net (it may not exist yet)."""
    return paths.cache_dir() / "models" / cache_key(data, model_config, config, adaptive)


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """``torch.save`` whole or not at all (:func:`resdyn.core.files.atomic_write`): a reader sees the old
    file or the new, never half."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save(path, *, model: DenseResNet, history, pruning, config, data_spec: dict, adaptive=None, optimizer=None,
         test_acc: float | None = None, initial_criterion: float | None = None, best_epoch: int | None = None,
         best: dict | None = None) -> Path:
    """Write a net in the one save format.

    ``history``: the epoch records (dataclasses); ``pruning``: :class:`resdyn.core.pruning.PruneRecord`s;
    ``config``/``adaptive``: the training settings it was trained with; ``data_spec``: the data it
    was trained on (:meth:`resdyn.core.data.Dataset.spec`); ``optimizer``: given for a checkpoint (to
    resume), omitted for a finished net; ``test_acc``: the finished net's test accuracy (measured
    once); ``initial_criterion``: the adaptive criterion before training; ``best_epoch``: the finished
    net's epoch; ``best``: a checkpoint's best net so far (see :func:`resdyn.core.checkpoints.save`)."""
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
        "data_spec": data_spec,
        "best_epoch": best_epoch,
        "best": best,
    }, path)


def settings(model_config: ModelConfig, config, adaptive, data_spec: dict) -> dict:
    """What a save file must hold for a request: the model, training and adaptive settings as saved,
    and the data's spec (:meth:`resdyn.core.data.Dataset.spec`): everything :func:`cache_key` hashes."""
    return {"model_config": model_config.to_dict(), "train_config": config.to_dict(),
            "adaptive": None if adaptive is None else adaptive.to_dict(), "data_spec": data_spec}


def mismatch(saved: dict, expect: dict) -> str | None:
    """How ``saved`` differs from the requested settings ``expect`` (:func:`settings`), or None.
    An adaptive run's model may be shallower than requested (layers went); nothing else may differ,
    and a setting missing from ``saved`` is a difference (the file cannot show it is that net)."""
    for key, want in expect.items():
        if key not in saved:
            return f"no {key} where {want} was asked for"
        got = saved[key]
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
        if not isinstance(saved, dict):
            raise ValueError(f"not a resdyn save file (it holds a {type(saved).__name__})")
        if "format" in saved and saved["format"] != FORMAT:
            raise ValueError(f"save format {saved['format']}, this version reads format {FORMAT}")
        missing = [k for k in _KEYS if k not in saved and k not in _SETTINGS]
        if missing:
            raise ValueError(f"not a resdyn save file (missing {', '.join(missing)})")
    except Exception as exc:  # truncated zip, unpickling error, wrong keys: the file is the problem
        return discard(path, f"could not be read ({read_error(exc)})")
    wrong = mismatch(saved, expect) if expect is not None else None
    unrecorded = [k for k in _SETTINGS if k not in saved]
    if unrecorded:  # so it cannot show which net it holds
        detail = wrong if wrong is not None else "no " + ", ".join(unrecorded)
        return discard(path, f"does not record everything that determines its net ({detail})")
    if wrong is not None:
        return discard(path, f"holds another net than this entry is for ({wrong})")
    try:
        model = DenseResNet(ModelConfig(**saved["model_config"]))
        model.load_state_dict(saved["model_state"])
    except Exception as exc:  # weights of other shapes than the settings say
        return discard(path, f"could not be read ({read_error(exc)})")
    saved["model"] = model.to(map_location)
    return saved


def read_error(exc: Exception) -> str:
    """``exc``, raised while reading a save file, in one line for a warning: its type and the first
    line of its message (torch's run to many), without torch's advice to load unsafely."""
    reason = (str(exc).strip().splitlines() or [""])[0][:200]
    if "weights only" in reason.lower() or "weights_only" in reason:  # torch's advice would be unsafe here
        reason = "it holds objects a resdyn save never contains, so it is not a resdyn save file"
    return f"{type(exc).__name__}: {reason}"


def discard(path: Path, why: str, then: str = "The net is trained again.") -> None:
    """Set ``path`` aside (:func:`set_aside`) with a :class:`CacheWarning` that names it, says
    ``why`` (a phrase after the path) and what happens ``then``; returns ``None``, for the caller
    to return in place of the file's content. Where the file is gone already (another process
    reading the same cache set it aside, and said so), it returns ``None`` without a word."""
    try:
        aside = set_aside(path)
    except FileNotFoundError:
        return None
    warnings.warn(f"resdyn cache: {path} {why}; moved it to {aside}. {then}", CacheWarning, stacklevel=3)
    return None


def set_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.corrupt`` (``.corrupt2``, ... if taken) and return the new path."""
    n, aside = 1, path.with_name(path.name + ".corrupt")
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt{n}")
    os.replace(path, aside)
    return aside
