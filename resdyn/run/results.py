"""results.json: the schema that gathers the sections' records, and how a target's run enters it.

The schema is the registry's (:data:`resdyn.studies.sections.SECTIONS`): :class:`Results` has one field per
section, typed by its record, beside the runs that produced them, the verdicts and the stale
targets. ``results.json`` is ``to_dict(results)``; :func:`load` reads it back and validates every
field (pydantic); :func:`schema` is its JSON Schema.

Three targets fill it, each with its own run: ``paper`` (notebooks 00-04, ``make reproduce``, in
CI), ``seeds`` (05, ``make seeds``) and ``study`` (06-11, ``make study``). Each notebook writes its
section as a fragment (:mod:`resdyn.lib.fragments`); :func:`combine` puts one target's merged sections
into the record beside the other targets', and marks those computed with another experiment spec
as stale.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from pathlib import Path

from resdyn.core import claims
from resdyn.studies import sections
from resdyn.core.claims import Verdict
from resdyn.lib.writing import jsonable, read_json


@dataclass(frozen=True)
class RunInfo:
    """One target's run: which run it is and what it cost.

    identity: mode, dataset, seed, code (a hash of the package and the notebooks' code), spec (a
    hash of the experiment's settings, :func:`resdyn.lib.fragments.experiment_spec`), precision, and
    commit (git, with ``+dirty`` for uncommitted changes); machine: the processor it ran on."""

    identity: dict[str, str | int | None]
    notebook_seconds: dict[str, float]
    wall_seconds: float
    versions: dict[str, str | None]
    machine: str
    torch_threads: int
    workers: int
    notebooks_run: list[str]
    peak_rss_mb: float
    #: resdyn's version (pyproject.toml) that ran it; None where the run did not record one.
    version: str | None = None


#: The layout of results.json; a record without ``schema_version`` has layout 1 (the field came later).
SCHEMA_VERSION = 1


def _results_type() -> type:
    """:class:`Results`, one field per registered section (in the registry's order)."""
    fields = [("schema_version", int, field(default=SCHEMA_VERSION)),
              ("runs", dict[str, RunInfo], field(default_factory=dict))]
    fields += [(s.name, s.record | None, field(default=None)) for s in sections.SECTIONS]
    fields += [("verdicts", list[Verdict], field(default_factory=list)),
               ("stale", list[str], field(default_factory=list))]
    doc = ("The whole record: one field per section of results.json (the registry's), the runs that produced "
           "them, the verdicts, and the targets whose sections were computed with another experiment spec (stale).")
    run = property(lambda self: self.runs.get("paper"), doc="The paper target's run (the main reproduction).")
    return dataclasses.make_dataclass("Results", fields, frozen=True, namespace={"__doc__": doc, "run": run,
                                                                                  "__module__": __name__})


Results = _results_type()


def to_dict(results: Results) -> dict:
    """The record as results.json holds it (absent sections left out, and a run's version where it has none,
    so that a record written without versions is written back as it was)."""
    d = {k: v for k, v in jsonable(results).items() if v is not None}
    for run in d.get("runs", {}).values():
        if run.get("version") is None:
            run.pop("version", None)
    return d


def _adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(Results)


def from_dict(d: dict) -> Results:
    """Validate a results.json dict against the schema and return the typed record.
    Raises ``ValueError`` for keys that are no section of the registry, and
    ``pydantic.ValidationError`` naming every field that does not fit."""
    version = d.get("schema_version", 1)
    if version != SCHEMA_VERSION:
        raise ValueError(f"results.json has schema version {version!r}; this code reads version {SCHEMA_VERSION}. "
                         "Re-run its targets with this code (make reproduce, make seeds, make study).")
    known = {f.name for f in dataclasses.fields(Results)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"results.json has unknown sections {', '.join(unknown)}; the registry "
                         f"(resdyn.studies.sections.SECTIONS) knows {', '.join(sorted(known))}. Re-run the target that "
                         "wrote it, or restore the committed file.")
    return _adapter().validate_python(d)


def check_whole(record: Results) -> None:
    """Raise ``ValueError`` unless ``record`` holds at least one target's run and, for every target it
    has run, the section of every notebook that run ran (the registry's)."""
    if not record.runs:
        raise ValueError("the record holds no run (runs is empty): it was not written by resdyn reproduce")
    for target, run in record.runs.items():
        ran = set(run.notebooks_run)  # a record of an older target layout holds the sections it ran
        missing = [s.name for s in sections.of_target(target) if s.notebook in ran and getattr(record, s.name) is None]
        if missing:
            raise ValueError(f"the {target} target's run lacks its sections {', '.join(missing)}")


def load(path: str | Path) -> Results:
    """Read and validate a results.json; a file that holds no JSON object raises ``ValueError`` naming it."""
    data = read_json(path)
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
        raise ValueError(f"{path} holds {kind}, not a record (a JSON object); restore it (git checkout "
                         "paper/results.json) or re-run its targets.")
    return from_dict(data)


def load_whole(path: str | Path, option: str) -> Results:
    """The whole record (:func:`check_whole`) in ``path``, the file of command-line ``option``; a missing
    file, invalid JSON, JSON that is no record, another schema or a record without its sections raises
    ``ValueError`` naming the file and the fix."""
    try:
        record = load(path)
        check_whole(record)
    except (ValueError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            str(exc).splitlines()[0].removeprefix(f"{path} ").split("; ")[0]  # without the file and the fix said below
        raise ValueError(f"{path} ({option}) is not a whole record ({why}); nothing was written. Fix: pass the "
                         "right file, restore it (git checkout paper/results.json) or re-run its targets.") from None
    return record


def schema() -> dict:
    """The JSON Schema of results.json."""
    return _adapter().json_schema(mode="serialization")


def combine(previous: Results | None, target: str, records: dict, run: RunInfo) -> Results:
    """``previous`` with ``target``'s sections and run replaced by ``records`` ({section: record dict})
    and ``run``; the other targets' sections
    kept, and listed in ``stale`` where their experiment spec differs from this run's."""
    own = {s.name for s in sections.of_target(target)}
    kept = {} if previous is None else {s: getattr(previous, s) for s in sections.NAMES if s not in own}
    runs = {} if previous is None else {t: r for t, r in previous.runs.items() if t != target}
    runs[target] = run
    record = from_dict({**{s: jsonable(v) for s, v in kept.items() if v is not None}, **records,
                        "runs": jsonable(runs)})
    stale = sorted(t for t, r in runs.items() if r.identity.get("spec") != run.identity.get("spec"))
    return rejudge(replace(record, stale=stale))


def rejudge(record: Results) -> Results:
    """``record`` with its verdicts given by the rules of :mod:`resdyn.core.claims` as they are now (every
    run does this; ``resdyn report --rejudge`` does it without a run, after a rule was added)."""
    return replace(record, verdicts=claims.verdicts(record, sections.SECTIONS))
