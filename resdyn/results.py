"""results.json: its schema, the fragments each notebook writes, and how they are merged.

The schema is written down as typed records: :class:`Results` has one field per section, typed by
the record its producing function returns (see :mod:`resdyn.paper`). ``results.json`` is
``to_dict(results)``; :func:`load` reads it back and validates every field (pydantic).

Each notebook writes its section as a *fragment* that carries the identity of its run (mode, data
set, seed, code version). :func:`merge` joins the fragments of one run and refuses fragments of
different runs, so a partial or repeated run can never produce a mixed record.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import paths
from .claims import Verdict
from .paper import AdaptiveDepth, Fig1AB, Fig1C, Fig1D, RegimeSweep

#: The identity fields that every fragment of one run must share.
RUN_KEYS = ("mode", "dataset", "seed", "code")


class MixedRunError(ValueError):
    """Fragments of different runs (or a record with sections missing) where one whole run is needed."""


@dataclass(frozen=True)
class RunInfo:
    """Section ``run``: which run this is and what it cost.

    identity: mode, dataset, seed, code (a hash of the package and the notebooks' code) and commit
    (git, with ``+dirty`` for uncommitted changes)."""

    identity: dict[str, str | int | None]
    notebook_seconds: dict[str, float]
    wall_seconds: float
    versions: dict[str, str | None]
    machine: str
    torch_threads: int
    notebooks_run: list[str]
    peak_rss_mb: float


@dataclass(frozen=True)
class Results:
    """The whole record of a full reproduction: one field per section of results.json."""

    run: RunInfo | None = None
    regime: RegimeSweep | None = None
    fig1ab: Fig1AB | None = None
    fig1c: Fig1C | None = None
    fig1d: Fig1D | None = None
    adaptive: AdaptiveDepth | None = None
    verdicts: list[Verdict] = field(default_factory=list)


#: The sections the notebooks write, by fragment name.
SECTIONS = ("regime", "fig1ab", "fig1c", "fig1d", "adaptive")


# ----------------------------------------------------------------------------------------------
# JSON


def jsonable(obj):
    """Records, tensors, numpy values, tuples and paths as plain JSON values (NaN/inf as None).
    Dataclass fields with ``metadata={"saved": False}`` are left out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.metadata.get("saved", True)}
    if torch.is_tensor(obj) or isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(obj, path: str | Path) -> Path:
    """Write ``jsonable(obj)`` atomically, keys sorted, indented."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(jsonable(obj), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def to_dict(results: Results) -> dict:
    """The record as results.json holds it (absent sections left out)."""
    return {k: v for k, v in jsonable(results).items() if v is not None}


def _adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(Results)


def from_dict(d: dict) -> Results:
    """Validate a results.json dict against the schema and return the typed record.
    Raises ``pydantic.ValidationError`` naming every field that does not fit."""
    return _adapter().validate_python(d)


def load(path: str | Path) -> Results:
    """Read and validate a results.json."""
    return from_dict(json.loads(Path(path).read_text()))


def schema() -> dict:
    """The JSON Schema of results.json."""
    return _adapter().json_schema(mode="serialization")


# ----------------------------------------------------------------------------------------------
# identity and fragments


def code_version() -> str:
    """A hash of the package's source and the notebooks' code cells (not their stored outputs)."""
    h = hashlib.sha256()
    for f in sorted((paths.REPO_ROOT / "resdyn").glob("*.py")):
        h.update(f.name.encode() + f.read_bytes())
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        h.update(nb.name.encode() + json.dumps([c["source"] for c in cells if c["cell_type"] == "code"]).encode())
    return h.hexdigest()[:12]


def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` if tracked files have uncommitted changes; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(paths.REPO_ROOT), *args], capture_output=True, text=True, timeout=30)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def run_identity(*, quick: bool, seed: int) -> dict:
    """The identity of a run: its fragments share mode, dataset, seed and code version."""
    return {"mode": "quick" if quick else "full", "dataset": "digits" if quick else "mnist", "seed": seed,
            "code": code_version(), "commit": git_commit()}


def save_fragment(folder: str | Path, name: str, record, *, identity: dict) -> Path:
    """Write one notebook's section to ``folder/name.json`` with its run's identity."""
    if name not in SECTIONS:
        raise ValueError(f'Invalid section "{name}". Must be one of {set(SECTIONS)}.')
    return write_json({"identity": identity, "section": name, "record": record}, Path(folder) / f"{name}.json")


def load_fragments(folder: str | Path) -> dict[str, dict]:
    """The fragments in ``folder`` as {section: {"identity": ..., "record": ...}}."""
    out = {}
    for p in sorted(Path(folder).glob("*.json")):
        frag = json.loads(p.read_text())
        out[frag["section"]] = frag
    return out


def merge(fragments: dict[str, dict], *, require_all: bool = True) -> tuple[dict, dict]:
    """The identity shared by ``fragments`` and their records as {section: record dict}.

    Raises :class:`MixedRunError` if they come from different runs (mode, dataset, seed or code
    version differ), or, with ``require_all``, if a section is missing."""
    if not fragments:
        raise MixedRunError("no fragments to merge: run the notebooks first (resdyn reproduce).")
    runs: dict[tuple, list[str]] = {}
    for name, frag in fragments.items():
        runs.setdefault(tuple(frag["identity"].get(k) for k in RUN_KEYS), []).append(name)
    if len(runs) > 1:
        groups = "; ".join(f"{', '.join(v)} from {dict(zip(RUN_KEYS, k))}" for k, v in runs.items())
        raise MixedRunError(f"the fragments come from different runs ({groups}); run all notebooks of one run "
                            "together (resdyn reproduce without --only) to get a whole record.")
    missing = [s for s in SECTIONS if s not in fragments]
    if require_all and missing:
        raise MixedRunError(f"the record lacks the sections {', '.join(missing)}; run all notebooks "
                            "(resdyn reproduce without --only) to get a whole record.")
    first = next(iter(fragments.values()))
    return first["identity"], {name: frag["record"] for name, frag in fragments.items()}
