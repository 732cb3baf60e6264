"""results.json: its schema, the fragments each notebook writes, and how they are merged.

The schema is written down as typed records: :class:`Results` has one field per section, typed by
the record its producing function returns (:mod:`resdyn.paper`, :mod:`resdyn.seeds`,
:mod:`resdyn.study`, :mod:`resdyn.toy`). ``results.json`` is ``to_dict(results)``; :func:`load`
reads it back and validates every field (pydantic); :func:`schema` is its JSON Schema.

Three targets fill it, each with its own run: ``paper`` (notebooks 00-04, ``make reproduce``, in
CI), ``seeds`` (05, ``make seeds``) and ``study`` (06-10, ``make study``). Each notebook writes its
section as a *fragment* carrying its run's identity (mode, data set, seed, code version, experiment
spec). :func:`merge` joins the fragments of one target's run and refuses fragments of different
runs, so a partial or repeated run can never produce a mixed record; :func:`combine` puts a
target's sections into the record beside the other targets', and marks those computed with another
experiment spec as stale.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from . import paths
from .claims import Verdict
from .paper import AdaptiveDepth, Fig1AB, Fig1C, Fig1D, RegimeSweep
from .seeds import SeedsSection
from .study import DepthStudy, MechanismStudy, PrecisionStudy, RegimeMap
from .toy import ToyCircles

#: The notebooks of each target and the section each one writes.
TARGETS = {
    "paper": {"00": "regime", "01": "fig1ab", "02": "fig1c", "03": "fig1d", "04": "adaptive"},
    "seeds": {"05": "seeds"},
    "study": {"06": "mechanism", "07": "regime_map", "08": "depth", "09": "toy", "10": "precision"},
}
SECTIONS = tuple(s for notebooks in TARGETS.values() for s in notebooks.values())
#: The identity fields that every fragment of one run shares.
RUN_KEYS = ("mode", "dataset", "seed", "code", "spec")


class MixedRunError(ValueError):
    """Fragments of different runs (or a record with sections missing) where one whole run is needed."""


@dataclass(frozen=True)
class RunInfo:
    """One target's run: which run it is and what it cost.

    identity: mode, dataset, seed, code (a hash of the package and the notebooks' code), spec (a
    hash of the experiment's settings, :func:`experiment_spec`), precision, and commit (git, with
    ``+dirty`` for uncommitted changes); machine: the processor it ran on."""

    identity: dict[str, str | int | None]
    notebook_seconds: dict[str, float]
    wall_seconds: float
    versions: dict[str, str | None]
    machine: str
    torch_threads: int
    workers: int
    notebooks_run: list[str]
    peak_rss_mb: float


@dataclass(frozen=True)
class Results:
    """The whole record: one field per section of results.json, the runs that produced them, the
    verdicts, and the targets whose sections were computed with another experiment spec (stale)."""

    runs: dict[str, RunInfo] = field(default_factory=dict)
    regime: RegimeSweep | None = None
    fig1ab: Fig1AB | None = None
    fig1c: Fig1C | None = None
    fig1d: Fig1D | None = None
    adaptive: AdaptiveDepth | None = None
    seeds: SeedsSection | None = None
    mechanism: MechanismStudy | None = None
    regime_map: RegimeMap | None = None
    depth: DepthStudy | None = None
    toy: ToyCircles | None = None
    precision: PrecisionStudy | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def run(self) -> RunInfo | None:
        """The paper target's run (the main reproduction)."""
        return self.runs.get("paper")


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


def experiment_spec(exp) -> str:
    """A hash of what defines the experiment's results: the regime, the training settings with their
    resolved precision, depth, sample counts, data split, verdict thresholds and the cache version.
    Sections computed under another spec are stale."""
    from . import claims, store

    train = {k: v for k, v in exp.train_config.to_dict().items() if k != "seed"}
    spec = {"regime": dataclasses.asdict(exp.regime), "train": train, "depth": exp.depth,
            "n_per_class": exp.n_per_class, "probe_size": exp.probe_size, "threshold": exp.threshold,
            "data": exp.data.spec(), "cache": store.CACHE_VERSION,
            "rules": {r.key: r.thresholds for r in claims.RULES}}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]


def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` if tracked files have uncommitted changes; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(paths.REPO_ROOT), *args], capture_output=True, text=True, timeout=30)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def run_identity(exp) -> dict:
    """The identity of ``exp``'s run: its fragments share mode, dataset, seed, code and spec."""
    return {"mode": exp.mode, "dataset": exp.data.name, "seed": exp.seed, "code": code_version(),
            "spec": experiment_spec(exp), "precision": exp.train_config.precision, "commit": git_commit()}


def save_fragment(folder: str | Path, name: str, record, *, identity: dict) -> Path:
    """Write one notebook's section to ``folder/name.json`` with its run's identity."""
    if name not in SECTIONS:
        raise ValueError(f'Invalid section "{name}". Must be one of {set(SECTIONS)}.')
    return write_json({"identity": identity, "section": name, "record": record}, Path(folder) / f"{name}.json")


def load_fragments(folder: str | Path, sections=SECTIONS) -> dict[str, dict]:
    """The fragments of ``sections`` in ``folder`` as {section: {"identity": ..., "record": ...}}."""
    out = {}
    for name in sections:
        p = Path(folder) / f"{name}.json"
        if p.exists():
            out[name] = json.loads(p.read_text())
    return out


def merge(fragments: dict[str, dict], *, require: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """The identity shared by ``fragments`` and their records as {section: record dict}.

    Raises :class:`MixedRunError` if they come from different runs (mode, dataset, seed, code
    version or experiment spec differ), or if a section of ``require`` is missing."""
    if not fragments:
        raise MixedRunError("no fragments to merge: run the notebooks first (resdyn reproduce).")
    runs: dict[tuple, list[str]] = {}
    for name, frag in fragments.items():
        runs.setdefault(tuple(frag["identity"].get(k) for k in RUN_KEYS), []).append(name)
    if len(runs) > 1:
        groups = "; ".join(f"{', '.join(v)} from {dict(zip(RUN_KEYS, k))}" for k, v in runs.items())
        raise MixedRunError(f"the fragments come from different runs ({groups}); run all notebooks of one target "
                            "together (without --only) to get a whole record.")
    missing = [s for s in require if s not in fragments]
    if missing:
        raise MixedRunError(f"the record lacks the sections {', '.join(missing)}; run all notebooks of the target "
                            "(without --only) to get a whole record.")
    first = next(iter(fragments.values()))
    return first["identity"], {name: frag["record"] for name, frag in fragments.items()}


def combine(previous: Results | None, target: str, sections: dict, run: RunInfo) -> Results:
    """``previous`` with ``target``'s sections and run replaced by these; the other targets' sections
    kept, and listed in ``stale`` where their experiment spec differs from this run's."""
    from . import claims

    kept = {} if previous is None else {s: getattr(previous, s) for s in SECTIONS if s not in TARGETS[target].values()}
    runs = {} if previous is None else {t: r for t, r in previous.runs.items() if t != target}
    runs[target] = run
    record = from_dict({**{s: jsonable(v) for s, v in kept.items() if v is not None}, **sections,
                        "runs": jsonable(runs)})
    stale = sorted(t for t, r in runs.items() if r.identity.get("spec") != run.identity.get("spec"))
    record = replace(record, stale=stale)
    return replace(record, verdicts=claims.verdicts(record))
