"""The regimes study's units (issue 19, item 6): each regime's seed is computed once, written whole
with its spec and provenance, loaded by a later run of the same spec and computed again under
another; the sections are built from them; progress reads them and the cache without training."""
from dataclasses import replace

import pytest
from records import control_run, intervention_study, seeds, threshold_runs

from resdyn.core import claims
from resdyn.studies.experiment import setup
from resdyn.lib.writing import write_json
from resdyn.studies.sections import by_regime, intervention, regime_units as units


class _Fit:
    def __init__(self, val_acc):
        self.val_acc, self.history, self.best_epoch = val_acc, [None] * 7, 7


def _fake_unit(exp, name, *, converged):
    """A unit with made-up numbers, one seed's worth of every part."""
    points = [p for p in intervention_study(1).points if p.regime == name]
    run = replace(seeds(n=exp.seed + 1).runs[exp.seed], seed=exp.seed)
    return units.SeedUnit(regime=name, seed=exp.seed, run=run,
                          control=control_run(exp.seed), sweep=[t for t in threshold_runs(1)],
                          points=[replace(p, seed=exp.seed) for p in points])


@pytest.fixture
def exp(tmp_path, monkeypatch):
    e = setup(quick=True, verbose=False, out_dir=tmp_path / "run")
    monkeypatch.setattr(units, "git_commit", lambda: "abc")  # a clean tree, whatever the checkout's state
    monkeypatch.setattr(type(e), "train", lambda self, *jobs, progress=True: [_Fit(0.9 - 0.01 * i)
                                                                              for i, _ in enumerate(jobs)])
    return e


def _computed(monkeypatch):
    calls = []

    def fake(exp, name, *, converged):
        calls.append((name, exp.seed))
        return _fake_unit(exp, name, converged=converged)

    monkeypatch.setattr(units, "seed_unit", fake)
    return calls


def test_each_unit_is_computed_once_written_with_its_spec_and_loaded_by_the_next_run(exp, monkeypatch):
    calls = _computed(monkeypatch)
    first = units.run(exp, reuse=True, log=lambda *a: None)
    assert calls == [(n, s) for n in claims.REGIMES for s in range(2)]
    names = sorted(p.name for p in units.units_dir(exp).iterdir())
    assert names == sorted(["choice.json", *(f"{n}-seed{s}.json" for n in claims.REGIMES for s in range(2))])
    assert first.choice.info.wall_seconds >= 0 and first.seeds["baseline"][1].info.spec
    assert [c.chosen for c in first.choice.choice] == [True] + [False] * 7  # the best validation accuracy
    calls.clear()
    monkeypatch.setattr(type(exp), "train", lambda self, *jobs, progress=True: pytest.fail("a loaded unit trained"))
    again = units.run(exp, reuse=True, log=lambda *a: None)
    assert calls == [] and again == first


def test_a_unit_of_another_spec_is_computed_again(exp, monkeypatch):
    calls = _computed(monkeypatch)
    first = units.run(exp, reuse=True, log=lambda *a: None)
    path = units.units_dir(exp) / "chosen-seed1.json"
    path.write_text(path.read_text().replace(first.seeds["chosen"][1].info.spec, "0" * 12))
    calls.clear()
    units.run(exp, reuse=True, log=lambda *a: None)
    assert calls == [("chosen", 1)]


@pytest.mark.parametrize(("commit", "used"), [("abc", True), ("abc+dirty", False), (None, True)])
def test_no_unit_written_from_a_dirty_tree_is_used(exp, monkeypatch, commit, used):
    _computed(monkeypatch)
    unit = units.run(exp, reuse=True, log=lambda *a: None).seeds["chosen"][0]
    path = units.units_dir(exp) / "chosen-seed0.json"
    write_json(replace(unit, info=replace(unit.info, commit=commit)), path)
    loaded = units._load(path, units.SeedUnit, unit.info.spec)
    assert (loaded is not None) == used and (not used or loaded.info.commit == commit)


def test_the_unit_spec_ignores_the_resolved_precision_and_sees_the_seed_the_rules_and_the_version(exp, monkeypatch):
    e = by_regime.regime_setup(exp, exp.regime, seed=0)
    fp32 = replace(e, train_config=replace(e.train_config, precision="fp32"))
    bf16 = replace(e, train_config=replace(e.train_config, precision="bf16"))
    assert units.unit_spec(fp32) == units.unit_spec(bf16)
    assert units.unit_spec(e) != units.unit_spec(by_regime.regime_setup(exp, exp.regime, seed=1))
    before = units.unit_spec(e)
    monkeypatch.setattr(units, "UNIT_VERSION", units.UNIT_VERSION + 1)
    assert units.unit_spec(e) != before
    monkeypatch.setattr(units, "UNIT_VERSION", units.UNIT_VERSION - 1)
    rule = claims.CONVERGENCE
    monkeypatch.setattr(claims, "RULES", tuple(replace(r, thresholds={**r.thresholds, "patience": 4}) if r is rule else r
                                               for r in claims.RULES))
    assert units.unit_spec(e) != before


def test_the_sections_are_built_from_the_units(exp, monkeypatch):
    _computed(monkeypatch)
    u = units.run(exp, reuse=True, log=lambda *a: None)
    rec = by_regime.from_units(u)
    assert rec.runs["paper_like"].seeds == [0, 1] and [c.seed for c in rec.controls["baseline"]] == [0, 1]
    assert len(rec.sweep["chosen"]) == 2 * len(claims.CONVERGENCE_SWEEP) and rec.choice == u.choice.choice
    assert rec.settings["paper_like"] == u.choice.regime().settings()
    study = intervention.from_units(u)
    assert study.seeds == {n: 2 for n in claims.REGIMES}
    assert study.points == [p for n in claims.REGIMES for s in (0, 1) for p in u.seeds[n][s].points]
    head, rows = units.provenance(u)
    assert head[0] == "unit" and [r[0] for r in rows][:2] == ["paper-like choice", "chosen regime, seed 0"]
    assert len(rows) == 1 + 6


def test_quick_mode_computes_its_units_again_unless_told_to_reuse_them(exp, monkeypatch):
    calls = _computed(monkeypatch)
    units.run(exp, log=lambda *a: None)
    units.run(exp, log=lambda *a: None)
    assert len(calls) == 2 * 3 * 2
    calls.clear()
    units.run(exp, reuse=True, log=lambda *a: None)
    assert calls == []


def test_run_rejects_seeds_that_do_not_cover_every_regime(exp):
    with pytest.raises(ValueError, match="seeds must give every regime of resdyn.core.claims.REGIMES .* got {'chosen': 2}"):
        units.run(exp, seeds={"chosen": 2})
    with pytest.raises(ValueError, match="at least two seeds"):
        units.run(exp, seeds={"chosen": 2, "paper_like": 1, "baseline": 2})


def test_progress_reads_the_units_and_the_cache_and_trains_nothing(exp, monkeypatch):
    import resdyn.lib.parallel as par

    lines = units.progress(exp)  # nothing yet: the paper-like regime is not chosen, so not listed
    assert lines[0] == "paper-like choice: 0/8 nets final, 0 partial"
    assert lines[1:] == [f"{n} seed {s}: 0/20 nets final, 0 partial" for n in ("chosen", "baseline")
                         for s in range(claims.REGIME_SEEDS[n])]
    _computed(monkeypatch)
    units.run(exp, seeds={n: 2 for n in claims.REGIMES}, reuse=True, log=lambda *a: None)
    monkeypatch.setattr(type(exp), "train", lambda self, *jobs, progress=True: pytest.fail("progress trained"))
    states = iter(["final", "partial", "none"] * 1000)
    monkeypatch.setattr(par, "cache_state", lambda job: next(states))
    lines = units.progress(exp)
    assert lines[:3] == ["paper-like choice: done", "chosen seed 0: done", "chosen seed 1: done"]
    assert lines[3] == "chosen seed 2: 7/20 nets final, 7 partial"
    assert len(lines) == 1 + sum(claims.REGIME_SEEDS.values()) and lines[6] == "paper_like seed 0: done"


def test_compute_writes_the_missing_units_in_order_and_starts_none_after_its_minutes(exp, monkeypatch):
    calls = _computed(monkeypatch)
    logged = []
    assert units.compute(exp, log=logged.append) == ["choice", *(f"{n}-seed{s}" for n in claims.REGIMES
                                                                 for s in range(2))]
    assert units.compute(exp, log=logged.append) == [] and len(calls) == 6
    for name in ("paper_like-seed1.json", "chosen-seed0.json"):
        (units.units_dir(exp) / name).unlink()
    assert units.compute(exp, minutes=1e-9, log=logged.append) == []
    assert logged[-1] == ("regimes study: 1e-09 minutes passed; chosen seed 0 and later units left for another run")
    assert units.compute(exp, minutes=60, log=logged.append) == ["chosen-seed0", "paper_like-seed1"]
    with pytest.raises(ValueError, match=r"minutes must be a number > 0 or None \(no limit\), got 0"):
        units.compute(exp, minutes=0)
