"""A release a reader can cite: one version (pyproject.toml) in CITATION.cff, CHANGELOG.md, the package and
the record's runs; a wheel that holds every module of the package."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import replace
from importlib import metadata

import pytest

import resdyn
from resdyn.studies import machine
from resdyn.core import paths
from resdyn.run import report, results

ROOT = paths.REPO_ROOT
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _cff(key: str) -> str:
    """A top-level scalar of CITATION.cff (quotes removed)."""
    m = re.search(rf"^{key}:\s*(.+?)\s*$", (ROOT / "CITATION.cff").read_text(), re.M)
    assert m, f"CITATION.cff has no top-level {key}"
    return m.group(1).strip("\"'")


def test_citation_cites_pyproject_s_version_released_on_the_changelog_s_date():
    newest = re.search(r"^## \[([^\]]+)\] - (\d{4}-\d\d-\d\d)$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert newest, "CHANGELOG.md has no '## [version] - YYYY-MM-DD' section"
    assert _cff("version") == PROJECT["version"] == newest.group(1)
    assert _cff("date-released") == newest.group(2)


def test_the_changelog_speaks_of_dates_and_commits_not_of_sessions_or_issues():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert not re.search(r"\b(?:sessions?|issues?)\s+\d", text, re.I)


def test_the_package_version_is_pyproject_s():
    assert resdyn.__version__ == machine.package_version() == PROJECT["version"]


def test_a_checkout_that_is_not_installed_reads_its_pyproject(monkeypatch, tmp_path):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(machine.metadata, "version", not_installed)
    assert machine.package_version() == PROJECT["version"]  # the checkout's own pyproject.toml
    other = tmp_path / "pyproject.toml"
    other.write_text('[project]\nname = "resdyn"\nversion = "9.8.7"\n')
    assert machine.package_version(other) == "9.8.7"
    other.write_text('[project]\nname = "another"\nversion = "1.0"\n')
    assert machine.package_version(other) is None
    other.write_text("[project\n")
    assert machine.package_version(other) is None
    assert machine.package_version(tmp_path / "missing.toml") is None


def test_the_committed_record_is_written_back_as_it_was_with_and_without_versions():
    raw = json.loads((paths.PAPER_DIR / "results.json").read_text())
    record = results.load(paths.PAPER_DIR / "results.json")
    assert record.runs and all((run.version is None) == ("version" not in raw["runs"][t]) for t, run in record.runs.items())
    assert any(run.version is None for run in record.runs.values())  # runs made before versions were recorded
    assert results.to_dict(record)["runs"] == raw["runs"]


def test_a_run_s_version_is_stored_and_read_back(tmp_path):
    from records import complete_record

    record = complete_record()
    record = replace(record, runs={t: replace(run, version="0.1.0") for t, run in record.runs.items()})
    d = results.to_dict(record)
    assert {run["version"] for run in d["runs"].values()} == {"0.1.0"}
    assert results.from_dict(json.loads(json.dumps(d))) == record


def test_the_report_s_header_names_the_version_or_says_it_is_unknown():
    from records import complete_record

    record = complete_record()
    assert report.version_line(record) == "Made by resdyn, version unknown (its runs recorded none)."
    known = replace(record, runs={t: replace(run, version="0.1.0") for t, run in record.runs.items()})
    assert report.version_line(known) == "Made by resdyn 0.1.0."
    assert "> Made by resdyn 0.1.0." in report.render(known, report_dir=paths.PAPER_DIR, figures_dir=paths.FIGURES_DIR)
    first, second = sorted(record.runs)[:2]
    mixed = replace(known, runs={first: known.runs[first], second: replace(known.runs[second], version=None)})
    assert report.version_line(mixed) == (f"Made by resdyn 0.1.0 ({first} target). The {second} target recorded no "
                                          "version (run before it was recorded).")
    other = replace(known, runs={first: known.runs[first], second: replace(known.runs[second], version="0.2.0")})
    assert report.version_line(other) == f"Made by resdyn 0.1.0 ({first} target); resdyn 0.2.0 ({second} target)."
    committed = (paths.PAPER_DIR / "REPORT.md").read_text().splitlines()
    assert f"> {report.version_line(results.load(paths.PAPER_DIR / 'results.json'))}" in committed[:6]


def test_the_wheel_holds_every_module_of_the_package(tmp_path):
    """The wheel built from (a copy of) the checkout lists every resdyn/**/*.py: a package left out of
    pyproject.toml's package list would be missing from every install."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "resdyn", src / "resdyn", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "wheel"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("resdyn-*.whl")
    assert wheel.name.startswith(f"resdyn-{PROJECT['version']}-")
    in_wheel = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    in_checkout = {p.relative_to(ROOT).as_posix() for p in (ROOT / "resdyn").rglob("*.py")}
    assert in_checkout and in_wheel == in_checkout, f"missing from the wheel: {sorted(in_checkout - in_wheel)}"
    requires = [line.split(":", 1)[1].strip() for line in zipfile.ZipFile(wheel).read(
        f"resdyn-{PROJECT['version']}.dist-info/METADATA").decode().splitlines() if line.startswith("Requires-Dist:")]
    assert "filelock==4.3.2" in requires


#: Libraries the package imports only for an optional feature, with the extra that declares them.
OPTIONAL = {"dask": "cluster"}  # resdyn.lib.parallel's Dask backend, imported only when asked for


def _imported_libraries() -> dict[str, set[str]]:
    """Every top-level module resdyn/ imports that is neither the standard library nor resdyn, with its files."""
    out: dict[str, set[str]] = {}
    for path in (ROOT / "resdyn").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names} - set(sys.stdlib_module_names) - {"resdyn"}:
                out.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return out


def _names(requirements) -> set[str]:
    return {re.split(r"[=<>!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


#: Import names whose distribution has another name (the rest are found by name; any other through
#: importlib.metadata.packages_distributions, which reads every installed distribution: seconds).
DISTRIBUTIONS = {"sklearn": ["scikit-learn"]}


def _distributions(top: str) -> list[str]:
    if top in DISTRIBUTIONS:
        return DISTRIBUTIONS[top]
    try:
        return [metadata.distribution(top).metadata["Name"]]
    except metadata.PackageNotFoundError:
        return metadata.packages_distributions().get(top, [top])


def test_every_library_the_package_imports_is_declared():
    imported = _imported_libraries()
    assert {"torch", "filelock", "jupyter_client", "nbval"} <= set(imported)
    declared = _names(PROJECT["dependencies"])
    undeclared = []
    for top, files in sorted(imported.items()):
        allowed = declared | (_names(PROJECT["optional-dependencies"][OPTIONAL[top]]) if top in OPTIONAL else set())
        distributions = _distributions(top)
        if not any(d.lower().replace("_", "-") in allowed for d in distributions):
            undeclared.append(f"{top} ({', '.join(distributions)}; imported by {', '.join(sorted(files))})")
    assert not undeclared, "imported but not in pyproject.toml's dependencies: " + "; ".join(undeclared)
