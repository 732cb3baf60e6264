"""The notebooks' papermill parameters (quick, seed, data_root, out_dir; seeds in notebook 05) are checked
where they enter the package: :func:`resdyn.studies.experiment.setup` and :func:`resdyn.studies.sections.seeds.run`, before
any data is loaded or any net trained."""
from __future__ import annotations

import pytest
from papermill.cli import _resolve_type  # how `papermill -p NAME VALUE` types VALUE

from resdyn.studies import experiment, switches
from resdyn.studies.sections import seeds as seeds_section


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False), ("true", True), ("TRUE", True), ("True", True),
    ("false", False), ("FaLsE", False), ("1", True), ("0", False)])
def test_quick_accepts_bools_and_their_spellings(value, expected):
    assert switches.check_quick(value) is expected


@pytest.mark.parametrize("value", ["maybe", "yes", "", " true", 2, -1, 1.0, None, [True]])
def test_quick_refuses_anything_else_naming_the_values_allowed(value):
    with pytest.raises(ValueError) as exc:
        switches.check_quick(value)
    assert str(exc.value) == (f'quick must be True or False (or the strings "true", "false", "1", "0" in any case), '
                              f"got {value!r}; pass for example -p quick True.")


@pytest.mark.parametrize("cli_value, expected", [("false", False), ("False", False), ("0", False), ("true", True),
                                                 ("1", True)])
def test_papermill_s_quick_false_runs_full_mode(monkeypatch, cli_value, expected):
    monkeypatch.delenv("RESDYN_QUICK", raising=False)
    assert switches.quick_mode(_resolve_type(cli_value)) is expected


def test_papermill_s_quick_maybe_is_refused(monkeypatch):
    monkeypatch.delenv("RESDYN_QUICK", raising=False)
    with pytest.raises(ValueError, match="quick must be True or False .* got 'maybe'"):
        switches.quick_mode(_resolve_type("maybe"))


@pytest.fixture
def no_data(monkeypatch):
    """setup must refuse a bad parameter before it loads any data."""
    def load_dataset(*args, **kwargs):
        raise AssertionError("setup loaded data before checking its parameters")
    monkeypatch.setattr(experiment, "load_dataset", load_dataset)
    monkeypatch.delenv("RESDYN_QUICK", raising=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"quick": "maybe"}, r"quick must be True or False .* got 'maybe'"),
    ({"quick": 2}, r"quick must be True or False .* got 2"),
    ({"seed": -1}, r"seed must be an integer in \[0, \d+\], got -1"),
    ({"seed": "abc"}, r"seed must be an integer in \[0, \d+\], got 'abc'"),
    ({"seed": 1.5}, r"seed must be an integer in \[0, \d+\], got 1.5"),
    ({"seed": True}, r"seed must be an integer in \[0, \d+\], got True"),
    ({"data_root": ""}, r"data_root must be a folder \(a non-empty string or path\) or None for the default, got ''"),
    ({"data_root": 5}, r"data_root must be a folder .* got 5"),
    ({"out_dir": "  "}, r"out_dir must be a folder .* got '  '"),
    ({"out_dir": False}, r"out_dir must be a folder .* got False"),
    ({"threads": 0}, r"threads must be an integer >= 1 or None \(torch's choice\), got 0"),
    ({"threads": "2"}, r"threads must be an integer >= 1 or None .* got '2'"),
])
def test_setup_refuses_a_bad_parameter_naming_it(no_data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        experiment.setup(**{"quick": True, **kwargs})


@pytest.mark.parametrize("name", ["data_root", "out_dir"])
def test_setup_refuses_a_file_where_a_folder_is_meant(no_data, tmp_path, name):
    f = tmp_path / "a_file"
    f.write_text("")
    with pytest.raises(ValueError, match=f"{name} '{f}' is a file, not a folder; pass a folder, or None"):
        experiment.setup(quick=True, **{name: str(f)})


@pytest.mark.parametrize("seeds, message", [
    (3, r"seeds must be a list of at least two different integers, got 3"),
    ("01", r"seeds must be a list of at least two different integers, got '01'"),
    ([0], r"seeds must be a list of at least two different integers, got \[0\]"),
    ([1, 1], r"seeds must be a list of at least two different integers, got \[1, 1\]"),
    ([0, -1], r"seeds\[1\] must be an integer in \[0, \d+\], got -1"),
    ([0, "a"], r"seeds\[1\] must be an integer in \[0, \d+\], got 'a'"),
])
def test_seeds_run_refuses_bad_seeds_before_any_setup(monkeypatch, seeds, message):
    def setup(**kwargs):
        raise AssertionError("seeds.run set up a run before checking its seeds")
    monkeypatch.setattr(seeds_section, "setup", setup)
    with pytest.raises(ValueError, match=message):
        seeds_section.run(seeds, quick=True)
