"""Two records' numbers, field by field: every leaf of two results.json records paired by its path
(``fig1c.trained.shared.ratio[2]``) and compared exactly or within the tolerance of its kind.

``resdyn reproduce --check OLD.json`` compares the run's sections with ``OLD.json``'s this way (beside
the verdicts); ``resdyn compare OLD.json NEW.json`` compares two records without a run, e.g. to show
that a refactor changes no number (``--exact``).

Two modes:

* **exact**: every leaf bit for bit. Two runs on one processor type agree so (the paper target on
  AMD EPYC at 8c91ed1 and at 8d90c0d: every leaf equal).
* **tolerant** (the default; CI may run on AMD EPYC or Intel Xeon, and the same bf16 training rounds
  differently on the two, which training amplifies): strings, booleans, None and integers exactly
  (depths, removals, epochs, counts; verdict words), except the settling layers (:data:`LAYER`);
  floats within the tolerance of their kind (:data:`KINDS`).

The tolerances come from the records of the same experiment spec run on both processor types (bf16,
2 cores): the paper target at d1fc11b (Intel Xeon) against 660ea28 and 8c91ed1 (AMD EPYC; the two
AMD records are equal leaf for leaf), and the seeds target at db31b6c (Intel) against 2f49f7b (AMD).
Each measured tolerance is two to four times the largest difference measured for its kind (the measured
maxima are in each kind's ``why``; the largest used 47 % of its tolerance). Timings, memory and the run's
identity (:data:`SKIPPED`) are not compared: they differ from run to run. The tolerances hold between
processors that train in one precision; bf16 and fp32 training give other nets (``reproduce --check``
then compares only the verdicts).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Paths whose leaves are not compared: the runs (timings, memory, machine, versions, commit), the
#: verdicts (``--check`` compares them by key; their ``ours`` strings restate numbers compared here),
#: the stale targets, and every timing inside the sections (``seconds``, ``train_seconds``, ...).
SKIPPED = re.compile(r"^(runs|verdicts|stale|schema_version)(\.|\[|$)|seconds|peak_rss"
                     r"|(^|\.)(machine|commit|versions|written|date|run_id)(\.|\[|$)")


@dataclass(frozen=True)
class Kind:
    """A kind of float leaf: the paths it covers (``pattern``, searched in the path) and its tolerance
    in the tolerant mode, ``|a - b| <= max(rel * scale, abs)``, where ``scale`` is the larger of
    ``|a|``, ``|b|`` and, for an element of a list of numbers (a profile), the largest ``|x|`` of that
    list on either side: a profile's small values are compared in relation to its peak."""

    name: str
    pattern: str
    rel: float
    abs: float
    why: str


#: The float kinds, first match wins; the last matches every path.
KINDS: tuple[Kind, ...] = (
    Kind("percentage points", r"error|scratch_minus_adaptive|adaptive_change", rel=0.0, abs=0.25,
         why="test errors and their differences, in percentage points: at most 0.07 pp between the processors "
             "(the seeds target: a seed's adaptive change -0.28 -> -0.21 pp, its error 1.56 -> 1.50 %)"),
    Kind("accuracy", r"acc|knn|healed", rel=0.0, abs=0.02,
         why="fractions of test or validation samples (x 100 where the record writes them in percent): at most "
             "0.008 between the processors (the paper target: kNN accuracy on the untrained nets' t-SNE, "
             "0.895 -> 0.903; the trained nets' test accuracies at most 0.0005, validation 0.0025)"),
    Kind("p-value", r"p_value", rel=0.0, abs=0.05,
         why="not measured between the processors (only the study target has p-values, and its two records differ in "
             "code too); a p-value moves with its statistic, its verdicts are compared by key: gross changes only"),
    Kind("correlation", r"(^|\.)rho$", rel=0.0, abs=0.1,
         why="not measured between the processors (as p-values); a rank correlation over a few dozen nets, where "
             "one net's rank moving changes it by a few hundredths"),
    Kind("statistic", r"", rel=0.1, abs=1e-9,
         why="every other number (criteria, profiles, distances, ratios, silhouettes, losses, mechanism statistics), "
             "relative: at most 0.047 between the processors (the seeds target: a seed's silhouette margin "
             "0.308 -> 0.293; the paper target 0.044, an epoch's training loss 0.00187 -> 0.00196; criteria and "
             "profiles 0.03 of their peak; class distances 0.02)"),
)

#: The settling layers (the first layer where a profile falls below a fraction of its peak; integers, or
#: floats where a record holds them in a dict of numbers or as a mean over seeds), compared within one
#: layer in the tolerant mode: a profile that crosses its threshold near a layer moves by one (measured:
#: one of the paper target's settling layers, 13 -> 12, Intel Xeon against AMD EPYC). A layer against
#: None (never settles) is a difference.
LAYER = Kind("layer", r"(^|\.)(mean|std|std_peak)_layer(_absolute)?(_untrained)?(_separate|_shared)?(\.|\[|$)",
             rel=0.0, abs=1,
             why="settling layers: a threshold crossed near a layer moves it by one (measured: 13 -> 12)")


@dataclass
class Comparison:
    """The outcome: how many leaves were compared, equal and within their tolerance; one line per leaf
    outside its tolerance (or of another type) and per leaf missing on one side."""

    exact: bool = False
    compared: int = 0
    equal: int = 0
    within: int = 0
    skipped: int = 0
    outside: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.outside and not self.missing

    def lines(self) -> list[str]:
        """The fields that differ, one a line: outside their tolerance first, then missing on one side."""
        return self.outside + self.missing

    def summary(self) -> str:
        mode = "bit for bit" if self.exact else "within the tolerances of resdyn.run.compare.KINDS"
        return (f"{self.compared + len(self.missing)} fields compared {mode}: {self.equal} equal, {self.within} "
                f"within their tolerance, {len(self.outside)} outside, {len(self.missing)} missing on one side "
                f"({self.skipped} timings and identity fields not compared)")


def kind_of(path: str) -> Kind:
    """The kind of the number at ``path``: :data:`LAYER` for a settling layer, else the first of
    :data:`KINDS` whose pattern it matches."""
    if re.search(LAYER.pattern, path):
        return LAYER
    return next(k for k in KINDS if re.search(k.pattern, path))


def leaves(record, prefix: str = "") -> dict[str, object]:
    """Every leaf of a JSON value by its path (``a.b[2].c``); an empty list or object is a leaf."""
    out: dict[str, object] = {}
    if isinstance(record, dict) and record:
        for key, value in record.items():
            out.update(leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(record, list) and record:
        for i, value in enumerate(record):
            out.update(leaves(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = record
    return out


def compare(before: dict, after: dict, *, sections: list[str] | None = None, exact: bool = False) -> Comparison:
    """Compare two records (results.json as dicts) leaf by leaf. ``sections``: only these top-level
    fields (default: all but :data:`SKIPPED`); ``exact``: every leaf bit for bit, else the tolerant
    mode (see the module's docstring)."""
    if sections is not None:
        unknown = sorted(set(sections) - set(before) - set(after))
        if unknown:
            raise ValueError(f"no section {', '.join(unknown)} in either record; they hold "
                             f"{', '.join(sorted(set(before) | set(after)))}")
        before = {k: v for k, v in before.items() if k in sections}
        after = {k: v for k, v in after.items() if k in sections}
    a, b = leaves(before), leaves(after)
    scales = _list_scales(a), _list_scales(b)
    out = Comparison(exact=exact)
    for path in sorted(set(a) | set(b), key=_natural):
        if SKIPPED.search(path):
            out.skipped += 1
        elif path not in a or path not in b:
            out.missing.append(f"{path}: {_show(a, path)} -> {_show(b, path)}")
        elif _same(a[path], b[path]):
            out.compared += 1
            out.equal += 1
        else:
            out.compared += 1
            why = None if exact else _tolerated(path, a[path], b[path], scales)
            if why is None:
                out.outside.append(f"{path}: {_show(a, path)} -> {_show(b, path)}"
                                   + ("" if _number(a[path]) and _number(b[path]) or type(a[path]) is type(b[path])
                                      else " (another type)"))
            elif why:
                out.outside.append(f"{path}: {_show(a, path)} -> {_show(b, path)} ({why})")
            else:
                out.within += 1
    return out


def compare_files(before: str | Path, after: str | Path, **kw) -> Comparison:
    """:func:`compare` of two results.json files."""
    from resdyn.lib.writing import read_json

    return compare(read_json(before), read_json(after), **kw)


def _tolerated(path: str, x, y, scales) -> str | None:
    """'' where ``x`` and ``y`` differ within the tolerance of their kind, a sentence saying by how much
    where they differ beyond it, None where they are not numbers the tolerant mode compares loosely."""
    if not (_number(x) and _number(y)):
        return None
    kind = kind_of(path)
    if isinstance(x, int) and isinstance(y, int) and kind is not LAYER:  # integers: exact, settling layers within one
        return None
    x, y = float(x), float(y)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    scale = max(abs(x), abs(y), *(s.get(_list_of(path), 0.0) for s in scales))
    tol = max(kind.rel * scale, kind.abs)
    if kind.name == "accuracy" and max(abs(x), abs(y)) > 1:  # written in percent
        tol *= 100
    diff = abs(x - y)
    return "" if diff <= tol else f"difference {diff:.3g} > {kind.name} tolerance {tol:.3g}"


def _list_of(path: str) -> str:
    """The list that the leaf at ``path`` is an element of ('' for none)."""
    m = re.fullmatch(r"(.*)\[\d+\]", path)
    return m.group(1) if m else ""


def _list_scales(flat: dict) -> dict[str, float]:
    """For each list of numbers, the largest absolute finite value of its elements."""
    out: dict[str, float] = {}
    for path, v in flat.items():
        base = _list_of(path)
        if base and _number(v) and math.isfinite(v):
            out[base] = max(out.get(base, 0.0), abs(float(v)))
    return out


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) is type(y) and x == y


def _show(flat: dict, path: str) -> str:
    return repr(flat[path]) if path in flat else "missing"


def _natural(path: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", path)]


def add_command(sub) -> None:
    """``resdyn compare OLD NEW [--sections NAMES] [--exact]`` among the command line's subcommands ``sub``."""
    p = sub.add_parser("compare", help="compare two results.json records field by field (numbers within tolerances).",
                       description="Pair every leaf of OLD and NEW by its path and compare it: strings, booleans, "
                                   "integers exactly (settling layers within one), floats within the tolerance of "
                                   "their kind (resdyn.run.compare.KINDS, measured between AMD EPYC and Intel Xeon), or "
                                   "every leaf bit for bit with --exact (two runs on one processor type, a refactor). "
                                   "Timings and the runs' identity are not compared. Lists every field that differs "
                                   "and the counts; exit 1 if any is outside its tolerance or missing on one side.")
    p.add_argument("old", help="the earlier results.json (e.g. the committed one, copied before a run).")
    p.add_argument("new", help="the later results.json.")
    p.add_argument("--sections", default=None, metavar="NAMES",
                   help="only these sections, comma-separated (e.g. fig1ab,fig1c); default: every section.")
    p.add_argument("--exact", action="store_true", help="every leaf bit for bit.")
    p.set_defaults(func=run_command)


def run_command(args) -> None:
    """``resdyn compare``: the fields that differ, one a line, then the counts; exit 1 unless all agree."""
    import sys

    names = [s for s in args.sections.split(",") if s] if args.sections else None
    result = compare_files(args.old, args.new, sections=names, exact=args.exact)
    if result.lines():
        print(f"Fields that differ between {args.old} and {args.new}:\n  " + "\n  ".join(result.lines()))
    print(result.summary() + ".")
    if not result.ok:
        sys.exit(1)
