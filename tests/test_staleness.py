"""A committed record computed by code that has changed since says so: a change of a section's code (not of
its wording) marks its target stale, and the report names the target that refreshes it."""
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from resdyn.core import paths
from resdyn.run import report, results, staleness

import records


def test_a_target_s_code_is_its_notebooks_and_every_module_they_reach():
    files = staleness.code_files("study")
    assert "notebooks/11_trace.ipynb" in files and "resdyn/studies/sections/trace.py" in files
    assert "resdyn/lib/zoo.py" in files  # reached through sections.trace, not named by the notebook
    assert "resdyn/core/model.py" in files and "resdyn/core/train.py" in files
    assert "resdyn/run/report.py" not in files and "resdyn/run/cli.py" not in files  # nothing above the sections
    assert all((paths.REPO_ROOT / f).exists() for f in files)


def test_wording_is_not_code_but_a_changed_line_is():
    before = 'def f(x):\n    """Double x."""\n    return 2 * x  # twice\n'
    reworded = 'def f(x):\n    """Twice x, for the ledger."""\n\n    return 2 * x\n'
    changed = 'def f(x):\n    """Double x."""\n    return 3 * x\n'
    assert staleness.code_of("a.py", before) == staleness.code_of("a.py", reworded)
    assert staleness.code_of("a.py", before) != staleness.code_of("a.py", changed)
    assert staleness.code_of("a.py", None) is None


def test_a_notebook_s_code_is_its_code_cells():
    nb = '{"cells": [{"cell_type": "markdown", "source": ["# %s"]}, {"cell_type": "code", "source": ["x = %d"]}]}'
    assert staleness.code_of("n.ipynb", nb % ("A", 1)) == staleness.code_of("n.ipynb", nb % ("B", 1))
    assert staleness.code_of("n.ipynb", nb % ("A", 1)) != staleness.code_of("n.ipynb", nb % ("A", 2))


def _record_at(commit):
    run = records.run_info()
    run = replace(run, identity={**run.identity, "commit": commit})
    return replace(results.Results(), runs={"study": run})


def test_a_code_change_to_a_section_marks_its_target_stale():
    path = "resdyn/studies/sections/trace.py"
    now = (paths.REPO_ROOT / path).read_text()
    older = now.replace("def ", "def _older_", 1)  # the same file with one function renamed: a change of code
    show = lambda commit, p: older if p == path else (paths.REPO_ROOT / p).read_text()  # noqa: E731
    stale = staleness.stale_code(_record_at("c0ffee"), show=show, differs=lambda c, files: list(files))
    assert stale == {"study": [path]}
    lines = staleness.describe(stale)
    assert lines == [f"the study target's sections were computed before code they depend on changed (`{path}`); "
                     "re-run `make study`."]
    text = report.render(_record_at("c0ffee"), report_dir=Path("paper"), figures_dir=Path("figures"), stale=stale)
    assert "**Computed by older code**: The study target's sections" in text and "`make study`" in text


def test_a_reworded_docstring_leaves_it_current():
    path = "resdyn/studies/sections/trace.py"
    now = (paths.REPO_ROOT / path).read_text()
    reworded = now.replace('"""', '"""Reworded. ', 1)
    show = lambda commit, p: reworded if p == path else (paths.REPO_ROOT / p).read_text()  # noqa: E731
    assert staleness.stale_code(_record_at("c0ffee"), show=show, differs=lambda c, files: list(files)) == {}


def test_a_commit_outside_the_history_cannot_be_traced():
    def unknown(commit, files):
        raise LookupError("commit c0ffee is not in this checkout's history")

    stale = staleness.stale_code(_record_at("c0ffee"), differs=unknown)
    assert stale == {"study": None}
    assert "cannot be traced" in staleness.describe(stale)[0]


def _has(commit):
    return subprocess.run(["git", "-C", str(paths.REPO_ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                          capture_output=True).returncode == 0


@pytest.mark.skipif(not _has("416fc8a") or not _has("531cb9a"), reason="the checkout's history is shallow")
def test_the_trace_conv_net_recorded_before_its_model_changed_is_stale():
    # the study target ran at 416fc8a; 531cb9a changed how the conv net reads its input (zoo, sections.trace)
    stale = staleness.stale_code(_record_at("416fc8a93d35e6a3e5d55efbd48899d7e659cf61"))
    assert {"resdyn/lib/zoo.py", "resdyn/studies/sections/trace.py", "notebooks/11_trace.ipynb"} <= set(stale["study"])
