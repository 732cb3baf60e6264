"""results.json plumbing: JSON values, fragments with their run's identity, merging, output folders, paths."""
import math
import resource
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from records import fig1c, fig1d

from resdyn.lib import fragments
from resdyn.studies import machine, sections, switches
from resdyn.core import paths
from resdyn.run import results
from resdyn.lib.writing import jsonable
from resdyn.studies.experiment import run_dirs


def test_jsonable_known_values():
    @dataclass
    class Rec:
        a: float
        b: list
        hidden: object = field(default=None, metadata={"saved": False})

    out = jsonable({"nan": float("nan"), "inf": -math.inf, "np": np.float32(0.5), "i": np.int64(3),
                            "t": torch.tensor([1.0, float("nan")]), "tuple": (1, 2), "path": Path("/a/b"),
                            "rec": Rec(a=1.5, b=[np.bool_(True)], hidden=torch.ones(3)), 7: "key"})
    assert out == {"nan": None, "inf": None, "np": 0.5, "i": 3, "t": [1.0, None], "tuple": [1, 2], "path": "/a/b",
                   "rec": {"a": 1.5, "b": [True]}, "7": "key"}
    assert type(out["i"]) is int and type(out["np"]) is float


def identity(**kw):
    return {"mode": "full", "dataset": "mnist", "seed": 0, "code": "c0de", "spec": "5bec", "commit": "abc", **kw}


def test_fragments_of_one_run_merge(tmp_path):
    fragments.save_fragment(tmp_path, "fig1c", fig1c(), identity=identity())
    fragments.save_fragment(tmp_path, "fig1d", fig1d(), identity=identity(commit="other"))  # provenance only
    ident, merged = fragments.merge(fragments.load_fragments(tmp_path, sections.NAMES))
    assert ident["seed"] == 0 and set(merged) == {"fig1c", "fig1d"}
    assert merged["fig1c"]["trained"]["separate"]["ratio"] == [0.5] * 10
    paper = tuple(s.name for s in sections.of_target("paper"))
    with pytest.raises(fragments.MixedRunError, match="lacks the sections regime, fig1ab, adaptive"):
        fragments.merge(fragments.load_fragments(tmp_path, sections.NAMES), require=paper)


@pytest.mark.parametrize("key, value", [("seed", 1), ("mode", "quick"), ("code", "beef"), ("spec", "0ld")])
def test_fragments_of_different_runs_are_refused(tmp_path, key, value):
    fragments.save_fragment(tmp_path, "fig1c", fig1c(), identity=identity())
    fragments.save_fragment(tmp_path, "fig1d", fig1d(), identity=identity(**{key: value}))
    with pytest.raises(fragments.MixedRunError, match=rf"fig1c from .*; fig1d from .*'{key}': '?{value}"):
        fragments.merge(fragments.load_fragments(tmp_path, sections.NAMES))


def test_unknown_section_is_refused(tmp_path):
    with pytest.raises(ValueError, match="name must be a section name"):
        fragments.save_fragment(tmp_path, "fig 9", {}, identity=identity())
    with pytest.raises(ValueError, match="name must be a section of results.json, one of regime, fig1ab"):
        sections.section("fig9")
    with pytest.raises(ValueError, match="unknown sections fig9"):
        results.from_dict({"fig9": {}})


def test_setup_saves_a_section_record_under_its_registered_name(tmp_path):
    from resdyn.studies.experiment import setup

    exp = setup(quick=True, out_dir=tmp_path, verbose=False)
    exp.save(fig1c())
    assert (exp.dirs.fragments / "fig1c.json").exists()
    with pytest.raises(TypeError, match="record must be a section record"):
        exp.save({"ratio": 1})


def test_run_identity_records_code_spec_and_commit():
    from resdyn.studies.experiment import setup

    exp = setup(quick=True, seed=3, verbose=False)
    ident = fragments.run_identity(exp)
    assert ident["mode"] == "quick" and ident["dataset"] == "digits" and ident["seed"] == 3
    assert len(ident["code"]) == 12 and ident["code"] == fragments.code_version()
    assert ident["commit"] is None or len(ident["commit"].split("+")[0]) == 40
    assert ident["precision"] == "fp32"  # quick mode is pinned
    assert ident["spec"] == fragments.experiment_spec(setup(quick=True, seed=4, verbose=False))  # the seed is not in it
    assert ident["spec"] != fragments.experiment_spec(replace(exp, n_per_class=exp.n_per_class + 1))  # no MNIST needed


def test_run_dirs_keep_quick_runs_off_the_committed_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("RESDYN_OUT", str(tmp_path / "out"))
    quick = run_dirs(quick=True)
    assert quick.figures == tmp_path / "out" / "quick" / "figures" and quick.paper == tmp_path / "out" / "quick" / "paper"
    full = run_dirs(quick=False)
    assert (full.figures, full.paper, full.scratch) == (paths.FIGURES_DIR, paths.PAPER_DIR, tmp_path / "out" / "full")
    mine = run_dirs(quick=False, out_dir=tmp_path / "x")
    assert (mine.figures, mine.paper, mine.fragments) == (tmp_path / "x" / "figures", tmp_path / "x" / "paper",
                                                          tmp_path / "x" / "results")


def test_data_root_order(tmp_path, monkeypatch):
    monkeypatch.delenv("RESDYN_DATA", raising=False)
    monkeypatch.setattr(paths, "SHARED_DATA", tmp_path / "shared")
    assert paths.data_root() == paths.REPO_ROOT / "data"
    raw = tmp_path / "shared" / "MNIST" / "raw"
    raw.mkdir(parents=True)  # an empty folder, as a failed download leaves it, is not MNIST
    assert paths.data_root() == paths.REPO_ROOT / "data" and not paths.has_mnist(tmp_path / "shared")
    for name in paths.MNIST_RAW_FILES[:-1]:
        (raw / name).touch()
    assert paths.data_root() == paths.REPO_ROOT / "data"  # three of four files are not enough
    (raw / paths.MNIST_RAW_FILES[-1]).touch()
    assert paths.data_root() == tmp_path / "shared" and paths.has_mnist(tmp_path / "shared")
    monkeypatch.setenv("RESDYN_DATA", str(tmp_path / "env"))
    assert paths.data_root() == tmp_path / "env"
    assert paths.data_root(tmp_path / "arg") == tmp_path / "arg"


@pytest.mark.parametrize("env, quick, expected", [("", False, False), ("1", False, True), ("0", True, True),
                                                  ("0", False, False)])
def test_quick_switch(monkeypatch, env, quick, expected):
    monkeypatch.setenv("RESDYN_QUICK", env)
    assert switches.quick_mode(quick) is expected


def test_quick_switch_rejects_other_values(monkeypatch):
    monkeypatch.setenv("RESDYN_QUICK", "yes")
    with pytest.raises(ValueError, match='RESDYN_QUICK must be "0" or "1" \\(or unset\\), got \'yes\''):
        switches.quick_mode()


def test_peak_rss_in_decimal_megabytes_of_the_larger_process(monkeypatch):
    # ru_maxrss is in KiB on Linux: 2,000,000 KiB = 2,048 MB (10^6 bytes), the unit the bench reports
    kib = {resource.RUSAGE_SELF: 500_000, resource.RUSAGE_CHILDREN: 2_000_000}
    monkeypatch.setattr(resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=kib[who]))
    assert machine.peak_rss_mb() == 2048.0


def test_the_schema_version_is_stored_and_checked():
    from records import complete_record

    d = results.to_dict(complete_record())
    assert d["schema_version"] == results.SCHEMA_VERSION
    assert results.from_dict({k: v for k, v in d.items() if k != "schema_version"}) == complete_record()
    with pytest.raises(ValueError, match="schema version 99; this code reads version 1"):
        results.from_dict({**d, "schema_version": 99})


def test_dirty_means_code_not_the_runs_outputs(tmp_path, monkeypatch):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    for name in ("resdyn/x.py", "paper/results.json", "figures/f.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("0")
    git("add", ".")
    git("-c", "user.email=a@b", "-c", "user.name=t", "commit", "-qm", "0")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    assert not fragments.git_commit().endswith("+dirty")
    (tmp_path / "paper" / "results.json").write_text("1")
    (tmp_path / "figures" / "f.png").write_text("1")
    assert not fragments.git_commit().endswith("+dirty")  # a run's own outputs
    (tmp_path / "resdyn" / "x.py").write_text("1")
    assert fragments.git_commit().endswith("+dirty")
    assert fragments.is_dirty({"commit": fragments.git_commit()})


def test_a_whole_record_holds_the_sections_of_the_notebooks_its_runs_ran():
    from records import complete_record

    full = complete_record()
    study = [s.notebook for s in sections.of_target("study")]
    full = replace(full, runs={**full.runs, "study": replace(full.runs["study"], notebooks_run=study)})
    results.check_whole(full)
    with pytest.raises(ValueError, match="the study target's run lacks its sections depth"):
        results.check_whole(replace(full, depth=None))
    older = replace(full, runs={**full.runs, "study": replace(full.runs["study"], notebooks_run=["06_mechanism"])},
                    depth=None)
    results.check_whole(older)  # that run never ran notebook 08
    with pytest.raises(ValueError, match="holds no run"):
        results.check_whole(replace(full, runs={}))


def test_the_spec_holds_the_verdict_rules_thresholds():
    from resdyn.core import claims
    from resdyn.studies.experiment import setup

    exp = setup(quick=True, verbose=False)
    base = fragments.experiment_spec(exp)
    rule = claims.VERDICT_RULES[0]
    old = dict(rule.thresholds)
    rule.thresholds["holds"] = old["holds"] + 0.1
    try:
        assert fragments.experiment_spec(exp) != base
    finally:
        rule.thresholds.clear()
        rule.thresholds.update(old)
    assert fragments.experiment_spec(exp) == base


def test_the_experiment_spec_is_the_one_earlier_runs_recorded():
    # quick mode's spec as every run before the options of issue 19 (patience, shuffle_labels, residual) recorded it
    from resdyn.studies.experiment import setup

    assert fragments.experiment_spec(setup(quick=True, verbose=False)) == "82f843f4e8e2"
