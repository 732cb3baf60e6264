import json
import shutil
import subprocess
import sys

import pytest

from resdyn.run.cli import main


def test_help_explains_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("train", "prune", "reproduce"):
        assert cmd in out
    with pytest.raises(SystemExit):
        main(["prune", "--help"])
    out = capsys.readouterr().out
    assert "--threshold" in out and "paper: 0.01" in out and "--min-depth" in out


def test_train_digits_prints_json_history(capsys, digits):
    from resdyn.studies.experiment import REGIME
    from resdyn.core.data import load_dataset
    from resdyn.core.model import ModelConfig
    from resdyn.core.train import TrainConfig, accuracy, train_or_load

    main(["train", "--dataset", "digits", "--depth", "3", "--epochs", "2", "--quiet", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["depth"] == 3 and [h["epoch"] for h in summary["history"]] == [1, 2]
    assert summary["from_cache"] is False
    # the command trained the regime's net: the same config from Python finds it in the cache
    data = load_dataset("digits", scaling=REGIME.scaling)
    same = train_or_load(data, ModelConfig(width=64, depth=3, init_scale=REGIME.init_scale, init_bias=REGIME.init_bias),
                         TrainConfig(epochs=2), progress=False)
    assert same.from_cache and summary["test_acc"] == same.test_acc == accuracy(same.model, data.test)
    main(["train", "--dataset", "digits", "--depth", "3", "--epochs", "2", "--quiet", "--json"])
    assert json.loads(capsys.readouterr().out)["from_cache"] is True


def test_prune_digits_removes_layers(capsys):
    main(["prune", "--dataset", "digits", "--depth", "5", "--epochs", "3", "--shared", "--threshold", "1e9",
          "--min-depth", "3", "--quiet", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["depth"] == 3 and len(summary["pruning"]) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset", "digits", "--depth", "0"], "depth must be an integer >= 1, got 0"),
        (["prune", "--dataset", "digits", "--threshold", "-1"], "threshold must be a number >= 0, got -1.0"),
        (["train", "--dataset", "mnist", "--data-root", "/nonexistent/root"], "MNIST not found under data root /nonexistent/root"),
    ],
)
def test_bad_input_exits_2_with_the_message(argv, message, capsys, monkeypatch):
    import resdyn.core.data

    monkeypatch.setattr(resdyn.core.data, "_try_download", lambda root: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(SystemExit) as exit_:
        main(argv + ["--quiet"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "resdyn", "reproduce", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--quick" in out.stdout and "--check" in out.stdout


def test_report_rerenders_from_results(tmp_path, capsys):
    from records import complete_record
    from resdyn.lib.writing import write_json
    from resdyn.run.results import to_dict

    write_json(to_dict(complete_record()), tmp_path / "paper" / "results.json")
    main(["report", "--results", str(tmp_path / "paper" / "results.json")])
    text = (tmp_path / "paper" / "REPORT.md").read_text()
    assert "## Summary" in text and "](../figures/fig1d_tsne.png)" in text


def test_report_rejudge_stores_the_verdicts_of_today_s_rules(tmp_path, capsys):
    import dataclasses

    from records import complete_record
    from resdyn.lib.writing import write_json
    from resdyn.run.results import load, to_dict

    old = complete_record()
    kept = [v for v in old.verdicts if "absolute" not in v.key]  # a record judged before the absolute-scale rule
    path = tmp_path / "paper" / "results.json"
    write_json(to_dict(dataclasses.replace(old, verdicts=kept)), path)
    main(["report", "--results", str(path)])
    assert {v.key for v in load(path).verdicts} == {v.key for v in kept}  # without --rejudge they stay
    main(["report", "--results", str(path), "--rejudge"])
    judged = {v.key: v for v in load(path).verdicts}
    assert judged == {v.key: v for v in old.verdicts} and load(path).fig1ab == old.fig1ab
    assert f"{len(old.verdicts) - len(kept)} verdicts new or changed" in capsys.readouterr().out


@pytest.mark.parametrize("content, why", [("{}", "holds no run"), ('{"foo": 1}', "unknown sections foo"),
                                          ('{"runs": {}, ', "is not valid JSON"), ("[1, 2]", "holds an array"),
                                          ('{"runs": 5}', "validation error for Results"), (None, "No such file")])
def test_report_refuses_a_record_that_does_not_validate(tmp_path, capsys, content, why):
    paper = tmp_path / "paper"
    paper.mkdir()
    if content is not None:
        (paper / "results.json").write_text(content)
    (paper / "REPORT.md").write_text("the committed report")
    with pytest.raises(SystemExit) as exc:
        main(["report", "--results", str(paper / "results.json")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and why in err and str(paper / "results.json") in err and "Fix:" in err
    assert err.startswith("resdyn report: error: ") and err.count("\n") == 1
    assert (paper / "REPORT.md").read_text() == "the committed report"


def test_report_is_never_replaced_by_an_emptier_one(tmp_path, capsys):
    from dataclasses import replace

    from records import complete_record
    from resdyn.lib.writing import write_json
    from resdyn.run.results import to_dict

    full = complete_record()
    write_json(to_dict(full), tmp_path / "paper" / "results.json")
    main(["report", "--results", str(tmp_path / "paper" / "results.json")])
    before = (tmp_path / "paper" / "REPORT.md").read_text()
    fewer = replace(full, runs={"paper": full.runs["paper"]}, seeds=None, mechanism=None, regime_map=None, depth=None,
                    toy=None, precision=None)
    write_json(to_dict(fewer), tmp_path / "paper" / "results.json")
    with pytest.raises(SystemExit):
        main(["report", "--results", str(tmp_path / "paper" / "results.json")])
    assert "fewer sections" in capsys.readouterr().err and (tmp_path / "paper" / "REPORT.md").read_text() == before
    main(["report", "--results", str(tmp_path / "paper" / "results.json"), "--force"])
    assert (tmp_path / "paper" / "REPORT.md").read_text() != before


@pytest.mark.parametrize("seed", ["-1", "abc", str(2**40)])
def test_bad_seed_on_the_command_line(capsys, seed):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--quick", "--seed", seed])
    assert exc.value.code == 2 and "--seed must be an integer" in capsys.readouterr().err


def test_min_depth_above_the_depth_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["prune", "--dataset", "digits", "--depth", "3", "--min-depth", "5", "--no-cache", "--quiet"])
    assert "--min-depth 5 is above the net's depth 3" in capsys.readouterr().err


def test_check_executed_exits_1_naming_the_notebook_whose_checked_cell_moved(tmp_path, capsys):
    from resdyn.core import paths

    shutil.copytree(paths.EXECUTED_DIR, tmp_path / "same")
    main(["check-executed", "--expected", str(paths.EXECUTED_DIR), "--actual", str(tmp_path / "same")])
    assert "match" in capsys.readouterr().out
    moved = tmp_path / "same" / "02_fig1c_trajectory_distances.ipynb"
    moved.write_text(moved.read_text().replace("holds", "does not"))
    with pytest.raises(SystemExit) as e:
        main(["check-executed", "--expected", str(paths.EXECUTED_DIR), "--actual", str(tmp_path / "same")])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "02_fig1c_trajectory_distances.ipynb: checked cell 'claims', " in err and "verdict: does not" in err


def test_units_prints_the_progress_or_computes_the_missing_units_within_its_minutes(capsys, monkeypatch):
    from resdyn.studies import experiment
    from resdyn.studies.sections import regime_units

    asked = []
    monkeypatch.setattr(experiment, "setup", lambda **kw: asked.append(kw) or "exp")
    monkeypatch.setattr(regime_units, "progress", lambda exp: [f"{exp}: chosen seed 0: done", "chosen seed 1: none"])
    monkeypatch.setattr(regime_units, "compute", lambda exp, minutes: asked.append(minutes) or ["chosen-seed1"])
    main(["units", "--progress", "--data-root", "/data"])
    assert capsys.readouterr().out == "exp: chosen seed 0: done\nchosen seed 1: none\n"
    main(["units", "--minutes", "90"])
    assert capsys.readouterr().out == "units computed: chosen-seed1\n"
    assert asked == [{"data_root": "/data", "verbose": False}, {"data_root": None, "verbose": False}, 90.0]


def test_results_load_names_a_file_that_holds_no_json_object(tmp_path):
    from resdyn.run import results

    for content, kind in (("[]", "an array"), ('"text"', "a string"), ("3", "a number"), ("null", "null")):
        (tmp_path / "results.json").write_text(content)
        with pytest.raises(ValueError, match=f"^{tmp_path / 'results.json'} holds {kind}, not a record"):
            results.load(tmp_path / "results.json")


def _failing_report(monkeypatch, exc):
    from resdyn.run import report

    def render(*a, **kw):
        raise exc

    monkeypatch.setattr(report, "render", render)


@pytest.fixture
def record_file(tmp_path):
    from records import complete_record
    from resdyn.lib.writing import write_json
    from resdyn.run.results import to_dict

    return write_json(to_dict(complete_record()), tmp_path / "paper" / "results.json")


def test_a_write_failure_is_one_line_naming_the_file_the_cause_and_the_fix(record_file, capsys, monkeypatch):
    """A file-size limit while REPORT.md is written (the writer's OSError, as a real limit raises it)."""
    import errno
    from pathlib import Path

    write_text = Path.write_text

    def too_large(self, text, *a, **kw):
        if ".REPORT.md." in self.name:
            raise OSError(errno.EFBIG, "File too large")
        return write_text(self, text, *a, **kw)

    monkeypatch.setattr(Path, "write_text", too_large)
    with pytest.raises(SystemExit) as exc:
        main(["report", "--results", str(record_file)])
    report = record_file.parent / "REPORT.md"
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.count("\n") == 1 and err.startswith(f"resdyn report: error: could not write {report}")
    assert "file-size limit" in err and "ulimit -f" in err and "left as they were" in err
    assert sorted(p.name for p in record_file.parent.iterdir()) == ["results.json"]


def test_an_unexpected_failure_is_one_line_and_its_traceback_shows_only_under_debug(record_file, capsys, monkeypatch):
    _failing_report(monkeypatch, KeyError("figure"))
    with pytest.raises(SystemExit) as exc:
        main(["report", "--results", str(record_file)])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("resdyn report: error: KeyError: 'figure' (an unexpected failure). Fix: run again with "
                          "resdyn --debug")
    with pytest.raises(KeyError):
        main(["--debug", "report", "--results", str(record_file)])
    monkeypatch.setenv("RESDYN_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["report", "--results", str(record_file)])
    monkeypatch.setenv("RESDYN_DEBUG", "yes")
    with pytest.raises(SystemExit) as exc:
        main(["report", "--results", str(record_file)])
    assert exc.value.code == 2 and "RESDYN_DEBUG must be \"0\" or \"1\" (or unset), got 'yes'" in capsys.readouterr().err


def test_ctrl_c_passes_as_it_is(record_file, monkeypatch):
    _failing_report(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        main(["report", "--results", str(record_file)])


@pytest.mark.parametrize("env, value, message", [
    ("RESDYN_WORKERS", "abc", "RESDYN_WORKERS must be an integer >= 1 (worker processes), got 'abc'"),
    ("RESDYN_QUICK", "yes", "RESDYN_QUICK must be \"0\" or \"1\" (or unset), got 'yes'"),
])
def test_reproduce_checks_the_environment_before_it_deletes_the_old_fragments(tmp_path, capsys, monkeypatch, env,
                                                                               value, message):
    from records import complete_record
    from resdyn.lib import fragments

    fragment = fragments.save_fragment(tmp_path / "results", "fig1c", complete_record().fig1c, identity={})
    monkeypatch.setenv(env, value)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--quick", "--out", str(tmp_path)])
    assert exc.value.code == 2 and capsys.readouterr().err.startswith(f"resdyn reproduce: error: {message}")
    assert fragment.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("inside", ["notebooks/outx", "resdyn/out", "."])
def test_an_output_folder_in_the_sources_is_refused(capsys, inside):
    from resdyn.core import paths

    out = (paths.REPO_ROOT / inside).resolve()
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--quick", "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(f"resdyn reproduce: error: --out gives the output folder {out}, ")
    assert "Fix: choose a folder outside notebooks/ and resdyn/" in err and not (out / "results").exists()
    assert inside == "." or not out.exists()


def test_an_output_folder_from_the_environment_in_the_sources_is_refused(monkeypatch):
    from resdyn.core import paths
    from resdyn.studies.experiment import run_dirs

    monkeypatch.setenv("RESDYN_OUT", str(paths.NOTEBOOKS_DIR / "build"))
    with pytest.raises(ValueError, match=rf"^\$RESDYN_OUT gives the output folder {paths.NOTEBOOKS_DIR / 'build'}/quick, "
                                         rf"inside the source folder {paths.NOTEBOOKS_DIR}"):
        run_dirs(True)


@pytest.mark.parametrize("argv, quick_env, noted", [(["--quick"], "", True), ([], "1", True), ([], "", False)])
def test_reproduce_in_quick_mode_ends_saying_its_verdicts_are_not_the_paper_s_result(capsys, monkeypatch, argv,
                                                                                   quick_env, noted):
    from records import complete_record

    from resdyn.run import cli, reproduce

    monkeypatch.setenv("RESDYN_QUICK", quick_env)
    monkeypatch.setattr(reproduce, "run", lambda **kw: complete_record())
    main(["reproduce", *argv])
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.strip().startswith(("holds", "partly", "does not", "no evidence")) for line in lines)
    assert (lines[-1] == cli.QUICK_NOTE) is noted and (cli.QUICK_NOTE in lines) is noted
    assert "8x8 digits" in cli.QUICK_NOTE and "paper/REPORT.md" in cli.QUICK_NOTE and "make book" in cli.QUICK_NOTE
