"""The regimes study's units of work, each kept as a record of its own (notebooks 15-16).

The study trains 20 nets per regime and seed (:func:`resdyn.studies.sections.by_regime.seed_jobs`), most
to convergence: many hours on two cores, longer than a machine may be held, and its cache need not
outlive it. So the work is cut into *units*, each small enough to finish on one machine: the paper-like
choice (its candidates on validation), then one unit per regime and seed. A unit holds everything
notebooks 15 and 16 read from its nets (the seed's headline numbers and verdicts, its controls,
its threshold sweep, its intervention points) and is written, whole, to
``<paper>/units/regimes/<name>.json`` the moment it is done, beside its identity: the spec it was
computed under (:func:`unit_spec`), and where, when and at which commit it ran. A later run
loads the units whose spec matches and computes only the missing ones; a unit of another spec is
stale and computed again. Committed units are records, like ``paper/results.json``: numbers, no
nets.

Core: :func:`seed_unit` computes one unit on a setup; :func:`run` loads or computes them all.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from resdyn.core import claims
from resdyn.studies import machine
from resdyn.studies.experiment import REGIME, Setup
from resdyn.lib.fragments import experiment_spec, git_commit, is_dirty
from resdyn.studies.regimes import BASELINE, Regime, paper_like
from resdyn.lib.writing import read_json, write_json
from resdyn.studies.sections import by_regime, controls, intervention
from resdyn.studies.sections.common import models, trained_nets
from resdyn.studies.sections.seeds import SeedRun, seed_run

#: Raised by hand when the code that measures a unit changes what it measures (the spec cannot see
#: code): every unit of an older version is then stale.
UNIT_VERSION = 1


@dataclass(frozen=True)
class UnitInfo:
    """Where a unit comes from: its spec (:func:`unit_spec`), the commit, machine and precision it
    ran on, when it was written (UTC, ISO 8601) and the wall time of the run that wrote it (less
    than the unit's compute where some of its nets were in the cache already)."""

    spec: str
    commit: str | None
    machine: str
    precision: str
    written: str
    wall_seconds: float


@dataclass(frozen=True)
class ChoiceUnit:
    """The paper-like choice: every candidate's row (:class:`resdyn.studies.sections.by_regime.Choice`)."""

    choice: list[by_regime.Choice]
    info: UnitInfo | None = None  # None until written

    def regime(self) -> Regime:
        """The chosen paper-like regime."""
        c = next(c for c in self.choice if c.chosen)
        return paper_like(init_scale=c.init_scale, lr=c.lr, schedule=c.schedule)


@dataclass(frozen=True)
class SeedUnit:
    """One regime's seed: its headline numbers and verdicts with the controls' clauses applied, its
    controls, its threshold sweep and its intervention points."""

    regime: str
    seed: int
    run: SeedRun
    control: controls.ControlRun
    sweep: list[by_regime.ThresholdRun]
    points: list[intervention.InterventionPoint]
    info: UnitInfo | None = None  # None until written


@dataclass(frozen=True)
class Units:
    """Every unit of the study: the choice, the regimes (paper-like as chosen), per regime its seeds' units."""

    choice: ChoiceUnit
    regimes: dict[str, Regime]
    seeds: dict[str, list[SeedUnit]]


def unit_spec(*setups: Setup) -> str:
    """A hash of what a unit's numbers depend on: each setup's experiment spec with the precision
    left at its setting (``auto``: a unit computed in bf16 on one machine and one computed in fp32 on
    another are the same unit; :class:`UnitInfo` says which ran), every rule's thresholds and
    :data:`UNIT_VERSION`."""
    specs = [experiment_spec(replace(e, train_config=replace(e.train_config, precision="auto"))) for e in setups]
    rules = {r.key: r.thresholds for r in claims.RULES}
    body = {"setups": specs, "seeds": [e.seed for e in setups], "rules": rules, "version": UNIT_VERSION}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:12]


def units_dir(exp: Setup) -> Path:
    """Where ``exp``'s run keeps the study's units: ``<paper>/units/regimes``."""
    return exp.dirs.paper / "units" / "regimes"


def _info(spec: str, exp: Setup, start: float) -> UnitInfo:
    return UnitInfo(spec=spec, commit=git_commit(), machine=machine.describe(), precision=exp.train_config.precision,
                    written=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    wall_seconds=round(time.perf_counter() - start, 1))


def _load(path: Path, kind: type, spec: str):
    """The unit in ``path`` if it exists, has ``spec`` and was not written from a dirty tree; else None."""
    if not path.exists():
        return None
    from pydantic import TypeAdapter

    unit = TypeAdapter(kind).validate_python(read_json(path))
    return None if unit.info.spec != spec or is_dirty({"commit": unit.info.commit}) else unit


def _choice_slot(exp: Setup) -> tuple[list[Setup], str, Path]:
    """The paper-like candidates' setups, the choice's spec and its path."""
    candidates = [by_regime.regime_setup(exp, c, seed=exp.seed) for c in by_regime.paper_like_candidates()]
    return candidates, unit_spec(*candidates), units_dir(exp) / "choice.json"


def choice_unit(exp: Setup, *, reuse: bool) -> ChoiceUnit:
    """The paper-like choice (:func:`resdyn.studies.sections.by_regime.choose_paper_like`), loaded (``reuse``)
    or computed and written."""
    _, spec, path = _choice_slot(exp)
    unit = _load(path, ChoiceUnit, spec) if reuse else None
    if unit is None:
        start = time.perf_counter()
        unit = ChoiceUnit(choice=by_regime.choose_paper_like(exp)[1])
        unit = replace(unit, info=_info(spec, exp, start))
        write_json(unit, path)
    return unit


def seed_unit(exp: Setup, name: str, *, converged: Setup) -> SeedUnit:
    """Regime ``name``'s unit of ``exp``'s seed: its 20 nets trained (or read from the cache), the
    seed's verdicts with the controls' clauses, the threshold sweep and the intervention points;
    ``exp`` and ``converged`` from :func:`resdyn.studies.sections.by_regime.regime_setup`. Not written."""
    exp.train(*by_regime.seed_jobs(exp, converged))
    nets = trained_nets(exp)
    run_, control = controls.judge(seed_run(exp, adaptive_exp=converged), controls.run(exp, models(nets)))
    samples = exp.samples()
    points = [p for net, r in nets.items() for p in intervention.measure(r.model, samples, regime=name, net=net,
                                                                        seed=exp.seed)]
    return SeedUnit(regime=name, seed=exp.seed, run=run_, control=control,
                    sweep=by_regime.threshold_sweep(converged), points=points)


def _regimes(choice: ChoiceUnit) -> dict[str, Regime]:
    return {"chosen": REGIME, "paper_like": choice.regime(), "baseline": BASELINE}


def _check_seeds(seeds: dict[str, int]) -> None:
    if set(seeds) != set(claims.REGIMES) or any(not isinstance(n, int) or isinstance(n, bool) or n < 2
                                                for n in seeds.values()):
        raise ValueError(f"seeds must give every regime of resdyn.core.claims.REGIMES ({', '.join(claims.REGIMES)}) at "
                         f"least two seeds, got {seeds!r}.")


def _default_seeds(exp: Setup) -> dict[str, int]:
    """:data:`resdyn.core.claims.REGIME_SEEDS`; two per regime in quick mode."""
    return {name: (2 if exp.quick else n) for name, n in claims.REGIME_SEEDS.items()}


def _slots(exp: Setup, regimes: dict[str, Regime], seeds: dict[str, int]):
    """Each regime's seeds in order: (name, seed, setup, converged setup, spec, path)."""
    for name, regime in regimes.items():
        for s in range(seeds[name]):
            e, c = (by_regime.regime_setup(exp, regime, seed=s, converge=v) for v in (False, True))
            yield name, s, e, c, unit_spec(e, c), units_dir(exp) / f"{name}-seed{s}.json"


def _compute(name: str, e: Setup, c: Setup, spec: str, path: Path, log) -> SeedUnit:
    log(f"regimes study: computing unit {name} seed {e.seed}")
    start = time.perf_counter()
    unit = seed_unit(e, name, converged=c)
    unit = replace(unit, info=_info(spec, e, start))
    write_json(unit, path)
    return unit


def run(exp: Setup, *, seeds: dict[str, int] | None = None, reuse: bool | None = None, log=print) -> Units:
    """Every unit of the study, loaded from :func:`units_dir` where its spec matches, else computed
    and written at once (the choice first, then regime by regime, seed by seed); ``seeds[regime]``
    seeds per regime (default :data:`resdyn.core.claims.REGIME_SEEDS`; quick mode: two). ``reuse``
    (default: full mode only) loads written units; quick mode computes them again each time (from
    the cache's nets, in seconds), so a test never reads a unit that older code measured."""
    seeds = seeds or _default_seeds(exp)
    _check_seeds(seeds)
    reuse = not exp.quick if reuse is None else reuse
    choice = choice_unit(exp, reuse=reuse)
    regimes, out = _regimes(choice), {name: [] for name in claims.REGIMES}
    for name, _, e, c, spec, path in _slots(exp, regimes, seeds):
        unit = _load(path, SeedUnit, spec) if reuse else None
        out[name].append(unit or _compute(name, e, c, spec, path, log))
    return Units(choice=choice, regimes=regimes, seeds=out)


def compute(exp: Setup, *, minutes: float | None = None, log=print) -> list[str]:
    """The missing units of :func:`run` (full seeds), computed and written in its order; none is
    started once ``minutes`` have passed (None: no limit), so that a run can stop between units.
    Returns the units computed ("choice", "<regime>-seed<s>")."""
    if minutes is not None and not minutes > 0:
        raise ValueError(f"minutes must be a number > 0 or None (no limit), got {minutes!r}.")
    start, done = time.perf_counter(), []

    def time_left() -> bool:
        return minutes is None or time.perf_counter() - start < 60 * minutes

    _, spec, path = _choice_slot(exp)
    if _load(path, ChoiceUnit, spec) is None:
        done.append("choice")
    choice = choice_unit(exp, reuse=True)
    for name, s, e, c, spec, path in _slots(exp, _regimes(choice), _default_seeds(exp)):
        if _load(path, SeedUnit, spec) is None:
            if not time_left():
                log(f"regimes study: {minutes} minutes passed; {name} seed {s} and later units left for another run")
                break
            _compute(name, e, c, spec, path, log)
            done.append(f"{name}-seed{s}")
    return done


def provenance(units: Units) -> tuple[list[str], list[list]]:
    """One row per unit: where and when it ran, at which commit, in what precision and wall time; a
    Markdown table's header and rows."""
    rows = [["paper-like choice", units.choice.info]] + [[f"{claims.regime_name(u.regime)}, seed {u.seed}", u.info]
                                                          for us in units.seeds.values() for u in us]
    return (["unit", "commit", "machine", "precision", "written (UTC)", "wall time of its run (min)"],
            [[name, (i.commit or "none")[:12], i.machine, i.precision, i.written, f"{i.wall_seconds / 60:.1f}"]
             for name, i in rows])


def progress(exp: Setup) -> list[str]:
    """How far :func:`compute` has come, nothing trained: per unit "done" (its record is in
    :func:`units_dir` with a matching spec), else its nets in the cache (final, and partly trained).
    The paper-like regime's seeds are listed once its choice is done."""
    from resdyn.lib.parallel import cache_state

    def line(name, kind, path, spec, jobs):
        if _load(path, kind, spec):
            return f"{name}: done"
        states = [cache_state(j) for j in jobs]
        return f"{name}: {states.count('final')}/{len(states)} nets final, {states.count('partial')} partial"

    candidates, spec, path = _choice_slot(exp)
    choice = _load(path, ChoiceUnit, spec)
    lines = [line("paper-like choice", ChoiceUnit, path, spec, [c.job(shared=False) for c in candidates])]
    regimes = _regimes(choice) if choice else {"chosen": REGIME, "baseline": BASELINE}
    seeds = {name: claims.REGIME_SEEDS[name] for name in regimes}
    lines += [line(f"{name} seed {s}", SeedUnit, path, spec, by_regime.seed_jobs(e, c))
              for name, s, e, c, spec, path in _slots(exp, regimes, seeds)]
    return lines


__all__ = ["UNIT_VERSION", "UnitInfo", "ChoiceUnit", "SeedUnit", "Units", "unit_spec", "units_dir", "choice_unit",
           "seed_unit", "run", "compute", "provenance", "progress"]
