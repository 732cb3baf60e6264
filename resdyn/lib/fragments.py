"""A run's identity and its fragments: what each notebook writes, and how one run's fragments merge.

Each notebook writes its section as a *fragment*: ``<folder>/<section>.json`` holding the record
and its run's identity (mode, data set, seed, code version, experiment spec, precision, commit).
:func:`merge` joins the fragments of one run and refuses fragments of different runs, so a partial
or repeated run can never produce a mixed record. Which sections exist is the registry's business
(:mod:`resdyn.studies.sections`); this module only reads and writes.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from pathlib import Path

from resdyn.core import claims, paths, store
from resdyn.lib.writing import read_json, write_json

#: The identity fields that every fragment of one run shares ("run": the invocation's id, set by
#: ``resdyn reproduce`` in ``$RESDYN_RUN_ID``; None for a notebook run by hand).
RUN_KEYS = ("run", "mode", "dataset", "seed", "code", "spec")


class MixedRunError(ValueError):
    """Fragments of different runs (or a record with sections missing) where one whole run is needed."""


def code_version() -> str:
    """A hash of the package's source and the notebooks' code cells (not their stored outputs)."""
    h = hashlib.sha256()
    package = paths.REPO_ROOT / "resdyn"
    for f in sorted(package.rglob("*.py")):
        h.update(f.relative_to(package).as_posix().encode() + f.read_bytes())
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        h.update(nb.name.encode() + json.dumps([c["source"] for c in cells if c["cell_type"] == "code"]).encode())
    return h.hexdigest()[:12]


def experiment_spec(exp) -> str:
    """A hash of what defines the experiment's results: the regime, the training settings with their
    resolved precision, depth, sample counts, data split, the verdict rules' thresholds
    (:data:`resdyn.core.claims.VERDICT_RULES`) and the cache version of its nets (:func:`resdyn.core.store.key_version`:
    a fixed budget's is unchanged since version 3). Sections computed under another
    spec are stale. The study's two decision rules are not in it (they judge the study, not these
    sections, so a change to them leaves the sections valid): their wording with its thresholds is
    stored in the study's own record."""
    train = {k: v for k, v in exp.train_config.to_dict().items() if k != "seed"}
    regime = {**dataclasses.asdict(exp.regime), "train": exp.regime.train.to_dict()}  # options added later: at their defaults, out
    spec = {"regime": regime, "train": train, "depth": exp.depth,
            "n_per_class": exp.n_per_class, "probe_size": exp.probe_size, "threshold": exp.threshold,
            "data": exp.data.spec(), "cache": store.key_version(exp.train_config),
            "rules": {r.key: r.thresholds for r in claims.VERDICT_RULES}}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:12]


#: What the runs write (the record, the figures): changes there do not make the code dirty. A
#: target run after another in the same checkout (seeds after paper) found the first's outputs
#: uncommitted and marked its record ``+dirty``, although the code was committed.
OUTPUTS = ("paper", "figures")


def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` if tracked files other than the runs' outputs
    (:data:`OUTPUTS`) have uncommitted changes; None outside git."""
    def git(*args):
        return subprocess.run(["git", "-C", str(paths.REPO_ROOT), *args], capture_output=True, text=True, timeout=30)

    head = git("rev-parse", "HEAD")
    if head.returncode != 0:
        return None
    code = ["--", ".", *(f":(exclude){p}" for p in OUTPUTS)]
    dirty = git("status", "--porcelain", "--untracked-files=no", *code).stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


def is_dirty(identity: dict) -> bool:
    """Whether a run's identity says it ran from a tree with uncommitted changes."""
    return str(identity.get("commit") or "").endswith("+dirty")


def run_identity(exp) -> dict:
    """The identity of ``exp``'s run: its fragments share mode, dataset, seed, code and spec."""
    return {"run": os.environ.get("RESDYN_RUN_ID"), "mode": exp.mode, "dataset": exp.data.name, "seed": exp.seed,
            "code": code_version(),
            "spec": experiment_spec(exp), "precision": exp.train_config.precision, "commit": git_commit()}


def save_fragment(folder: str | Path, name: str, record, *, identity: dict) -> Path:
    """Write one notebook's section ``name`` to ``folder/name.json`` with its run's identity."""
    if not name.isidentifier():
        raise ValueError(f"name must be a section name such as 'fig1c', got {name!r}.")
    return write_json({"identity": identity, "section": name, "record": record}, Path(folder) / f"{name}.json")


def load_fragments(folder: str | Path, sections) -> dict[str, dict]:
    """The fragments of ``sections`` (names) in ``folder`` as {section: {"identity": ..., "record": ...}}."""
    out = {}
    for name in sections:
        p = Path(folder) / f"{name}.json"
        if p.exists():
            out[name] = read_json(p)
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
