"""The runner: whole records only, other targets' sections kept or marked stale, executed notebooks
that are byte-stable, figure comparison."""
import json
from types import SimpleNamespace

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from records import complete_record, run_info  # noqa: E402

from resdyn.run import executed, reproduce, results  # noqa: E402
from resdyn.lib import fragments  # noqa: E402
from resdyn.studies import plots, sections  # noqa: E402
from resdyn.lib.writing import jsonable  # noqa: E402
from resdyn.run.kernels import kernel_options  # noqa: E402


def test_combine_replaces_a_target_and_keeps_or_marks_the_others():
    previous = complete_record()
    paper = {s.name: jsonable(getattr(previous, s.name)) for s in sections.of_target("paper")}
    same = results.combine(previous, "paper", paper, run_info(spec="5bec"))
    assert same.seeds == previous.seeds and same.mechanism == previous.mechanism and same.stale == []
    newer = results.combine(previous, "paper", paper, run_info(spec="n3w"))
    assert newer.stale == ["criteria", "regimes", "seeds", "study"] and newer.seeds == previous.seeds  # kept, but marked
    fresh = results.combine(None, "paper", paper, run_info())
    assert fresh.seeds is None and list(fresh.runs) == ["paper"] and fresh.verdicts  # verdicts from the record


def write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_executed_notebooks_are_byte_stable_and_clean(tmp_path):
    import papermill

    src = tmp_path / "nb.ipynb"
    write_notebook(src, [
        "import sys, time\nprint('result', 42)\nprint('progress', time.time(), file=sys.stderr)\n"
        "sys.stdout.flush(); time.sleep(0.5); print('more')",
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "import matplotlib.pyplot as plt\nfrom resdyn.studies import plots\nplots.use_style()\nplt.plot([1, 2, 3])"])
    outs = []
    for i in range(2):
        done = tmp_path / f"run{i}.ipynb"
        papermill.execute_notebook(str(src), str(done), kernel_name="python3", progress_bar=False,
                                   parameters={"answer": 42}, **kernel_options(tmp_path))
        outs.append(executed.clean_executed(done, tmp_path / f"clean{i}.ipynb").read_bytes())
    assert outs[0] == outs[1]
    nb = json.loads(outs[0])
    assert "papermill" not in nb["metadata"] and all("papermill" not in c["metadata"] for c in nb["cells"])
    streams = [o for c in nb["cells"] for o in c["outputs"] if o["output_type"] == "stream"]
    assert [o["name"] for o in streams] == ["stdout"] and "result 42" in "".join(streams[0]["text"])
    assert "".join(streams[0]["text"]).endswith("more\n")  # the pieces of one cell's stdout as one output
    raw_streams = [o for o in json.loads((tmp_path / "run0.ipynb").read_text())["cells"][1]["outputs"]
                   if o["output_type"] == "stream" and o["name"] == "stdout"]
    assert len(raw_streams) == 2  # papermill stored them apart
    assert any("image/png" in o.get("data", {}) for c in nb["cells"] for o in c["outputs"])  # figures kept
    assert "[<matplotlib.lines.Line2D>]" in json.dumps(nb)  # the repr, without its memory address
    raw = json.loads((tmp_path / "run0.ipynb").read_text())
    assert "papermill" in raw["metadata"]  # what the cleaning removed was there
    assert "injected-parameters" in raw["cells"][0]["metadata"]["tags"] and raw["cells"][0]["id"] != "injected-parameters"
    assert nb["cells"][0]["id"] == "injected-parameters"


def test_a_partial_run_leaves_the_record_as_it_was(tmp_path, monkeypatch):
    monkeypatch.setenv("RESDYN_QUICK", "1")
    out = tmp_path / "out"
    # a fragment of another run (other seed) where notebook 01's goes; 02 runs now
    fragments.save_fragment(out / "results", "fig1ab", complete_record().fig1ab, identity={"seed": 9, "mode": "quick"})
    record = reproduce.run(quick=True, only=["02"], out_dir=str(out), log=open(tmp_path / "log", "w"))
    assert record is None and not (out / "paper" / "results.json").exists()
    log = (tmp_path / "log").read_text()
    assert "a partial run (--only) never writes the record" in log and "left as they were" in log
    assert (out / "results" / "fig1c.json").exists()  # the new fragment is kept for a later whole run


def test_unknown_target_and_empty_selection_are_refused():
    with pytest.raises(ValueError, match="target must be one of paper, seeds, study, criteria, regimes; got 'figures'"):
        reproduce.select("figures", None)
    with pytest.raises(ValueError, match="matches no notebook of target 'paper'"):
        reproduce.select("paper", ["07"])


def test_figure_comparison_names_the_figure_that_moved(tmp_path):
    def draw(folder, shift=0.0):
        folder.mkdir(exist_ok=True)
        for name in ("a", "b"):
            fig, ax = plt.subplots(figsize=(3, 2))
            ax.plot([0, 1, 2], [0, 1 + (shift if name == "b" else 0), 0])
            ax.set_ylim(0, 3)
            plots.save_figure(fig, folder / name, dpi=50)
            plt.close(fig)

    draw(tmp_path / "committed")
    draw(tmp_path / "same")
    draw(tmp_path / "moved", shift=1.0)
    tol = {"a": 1.0, "b": 1.0}
    assert executed.compare_figures(tmp_path / "committed", tmp_path / "same", tol) == []
    problems = executed.compare_figures(tmp_path / "committed", tmp_path / "moved", tol)
    assert len(problems) == 1 and problems[0].startswith("b.png: RMS difference")
    (tmp_path / "same" / "a.png").unlink()
    assert executed.compare_figures(tmp_path / "committed", tmp_path / "same", tol)[0].startswith("a.png: missing")


def test_notebook_stderr_is_logged_without_an_empty_line_after_each_piece(caplog):  # the filter of resdyn.run.reproduce
    import logging

    with caplog.at_level(logging.WARNING, logger="papermill"):
        logging.getLogger("papermill").warning("regime shared seed 0: epoch 2/10: depth 14\n")
        logging.getLogger("papermill").warning("two lines\nat once\n\n")
    assert [r.getMessage() for r in caplog.records] == ["regime shared seed 0: epoch 2/10: depth 14", "two lines\nat once"]


# -- one run per folder, a record from one whole run only, failures that name their cause -------


@pytest.fixture(scope="module")
def whole_quick_run(tmp_path_factory):
    """A whole quick run of the paper target into its own folder (about a minute)."""
    import os

    out = tmp_path_factory.mktemp("whole")
    old = os.environ.get("RESDYN_QUICK")
    os.environ["RESDYN_QUICK"] = "1"
    try:
        record = reproduce.run(quick=True, out_dir=str(out), log=open(out / "log", "w"))
    finally:
        os.environ.pop("RESDYN_QUICK") if old is None else os.environ.__setitem__("RESDYN_QUICK", old)
    return out, record


def test_only_after_a_whole_run_leaves_the_record_untouched(whole_quick_run, tmp_path, monkeypatch):
    out, record = whole_quick_run
    assert record is not None and (out / "paper" / "results.json").exists()
    figures = {f.stem for s in sections.of_target("paper") for f in s.figures}
    assert figures <= {p.stem for p in (out / "figures").glob("*.png")}  # published with the record
    ids = {json.loads(p.read_text())["identity"]["run"] for p in (out / "results").glob("*.json")}
    assert len(ids) == 1 and None not in ids  # every fragment carries the whole run's id
    before = {name: (out / "paper" / name).read_bytes() for name in ("results.json", "REPORT.md")}
    monkeypatch.setenv("RESDYN_QUICK", "1")
    again = reproduce.run(quick=True, only=["02"], out_dir=str(out), log=open(tmp_path / "log", "w"))
    assert again is None and "never writes the record" in (tmp_path / "log").read_text()
    assert {name: (out / "paper" / name).read_bytes() for name in before} == before


def test_no_kernel_socket_is_left_in_the_notebooks_folder(whole_quick_run):
    from resdyn.core import paths

    assert not [p.name for p in paths.NOTEBOOKS_DIR.iterdir() if p.name.startswith("kernel")]


def test_a_second_run_on_the_same_folder_fails_clearly(tmp_path):
    """Another process holds the folder (a run started earlier, still running): this one stops with
    a clear error, before it deletes or writes anything; once the other ends, the folder is free."""
    import subprocess
    import sys

    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from types import SimpleNamespace
from pathlib import Path
from resdyn.run import reproduce
dirs = SimpleNamespace(scratch=Path({str(out)!r}), paper=Path({str(out)!r}) / "paper", figures=Path({str(out)!r}) / "f")
with reproduce._exclusive(dirs):
    print("holding", flush=True)
    sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    fragment = fragments.save_fragment(out / "results", "fig1c", complete_record().fig1c, identity={})
    with pytest.raises(reproduce.RunError, match="another resdyn reproduce is writing to .*--out"):
        reproduce.run(quick=True, out_dir=str(out), log=open(tmp_path / "log", "w"))
    assert fragment.exists()  # nothing deleted
    holder.communicate("done\n", timeout=60)
    dirs = SimpleNamespace(scratch=out, paper=out / "paper", figures=out / "f")
    with reproduce._exclusive(dirs):  # free again
        pass


@pytest.mark.parametrize("seed", [-1, 2**40])
def test_a_bad_seed_is_refused_before_anything_is_touched(tmp_path, seed):
    fragment = fragments.save_fragment(tmp_path / "results", "fig1c", complete_record().fig1c, identity={})
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2147483647\]"):
        reproduce.run(quick=True, seed=seed, out_dir=str(tmp_path))
    assert fragment.exists()


def test_cells_have_a_limit_where_a_hang_must_fail_and_none_where_they_train_for_hours(tmp_path, monkeypatch):
    assert reproduce.cell_timeout("paper", False) == reproduce.cell_timeout("regimes", True) == reproduce.CELL_TIMEOUT
    assert all(reproduce.cell_timeout(t, False) is None for t in ("seeds", "study", "criteria", "regimes"))
    for bad in (-1, 1.5, True, "60"):
        with pytest.raises(ValueError, match=r"timeout must be a number of seconds >= 0 \(0: no limit\)"):
            reproduce.run(quick=True, timeout=bad, out_dir=str(tmp_path))
    assert not (tmp_path / "results").exists()  # refused before anything is touched
    seen = []
    monkeypatch.setattr(reproduce, "_execute", lambda nb, i, n, dirs, params, kernel, timeout, *a: seen.append(timeout) or 0.0)
    for timeout, target, quick, expected in ((None, "regimes", False, None), (None, "regimes", True, reproduce.CELL_TIMEOUT),
                                             (0, "seeds", True, None), (120, "study", False, 120)):
        seen.clear()
        first = executed.notebooks(target)[0].name[:2]
        assert reproduce.run(target=target, quick=quick, timeout=timeout, only=[first], out_dir=str(tmp_path / "out"),
                             log=open(tmp_path / "log", "w")) is None  # a partial run
        assert seen == [expected]


def test_a_child_process_s_line_reaches_the_notebook_and_the_kernel_log_not_the_run_s_terminal(tmp_path, capfd,
                                                                                               monkeypatch):
    import nbformat

    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # under pytest, ipykernel leaves file descriptors alone
    nb = tmp_path / "05_child.ipynb"
    write_notebook(nb, ["import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(\"epoch 7/9 from a worker\")'])",
                        "import time\ntime.sleep(1)  # ipykernel forwards a file descriptor's output from a thread"])
    dirs = SimpleNamespace(scratch=tmp_path / "scratch")
    reproduce._execute(nb, 1, 1, dirs, {}, "python3", 60, tmp_path, True, open(tmp_path / "log", "w"))
    terminal = "".join(capfd.readouterr())  # this process's file descriptors, which the kernel would inherit
    assert "epoch 7/9 from a worker" not in terminal  # ipykernel's echo of it goes to the kernel log; papermill
    executed = nbformat.read(tmp_path / "scratch" / "notebooks" / "05_child.ipynb", as_version=4)  # logs the rest
    assert "epoch 7/9 from a worker" in "".join(o.get("text", "") for c in executed.cells for o in c.outputs)
    assert "epoch 7/9 from a worker" in (tmp_path / "scratch" / "notebooks" / "05_child.kernel.log").read_text()


@pytest.mark.parametrize("cell, why, fix", [
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
     "killed by SIGKILL, most likely by the system's out-of-memory killer", "RESDYN_WORKERS=1"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)", "killed by SIGTERM", "find what sent the signal"),
    ("import os\nos._exit(3)", "it exited with code 3", "read the kernel's own output"),
])
def test_a_dead_kernel_names_the_notebook_what_ended_it_and_the_fix(tmp_path, cell, why, fix):
    """Out of memory is said only where the kernel's exit status says SIGKILL; else its signal or exit code."""
    from types import SimpleNamespace

    nb = tmp_path / "07_dies.ipynb"
    write_notebook(nb, [cell])
    dirs = SimpleNamespace(scratch=tmp_path / "scratch")
    with pytest.raises(reproduce.RunError) as err:
        reproduce._execute(nb, 1, 1, dirs, {}, "python3", 60, tmp_path, True, open(tmp_path / "log", "w"))
    msg = str(err.value)
    assert msg.startswith(f"07_dies.ipynb: the kernel died ({why});") and "07_dies.kernel.log" in msg
    assert ("memory" in msg) == ("SIGKILL" in why) and fix in msg.split("Fix: ")[1]
    assert (tmp_path / "scratch" / "notebooks" / "07_dies.failed.ipynb").exists()
    assert not (tmp_path / "scratch" / "notebooks" / "07_dies.ipynb").exists()


@pytest.mark.parametrize("cell, timeout, expected", [
    ("x = 1", None, ""),
    ("raise KeyError('fig1c')", 60, "07_fails.ipynb: cell [2] raised KeyError: 'fig1c'; its partial output is {failed}. "
                                    "Fix: read the traceback there, remove the cause, then run again."),
    ("import time\ntime.sleep(30)", 1, "07_fails.ipynb: a cell ran past the limit of 1 s per cell; its partial output "
                                       "is {failed}. Fix: find why it hung, or give it more time with --cell-timeout"),
])
def test_a_failing_cell_names_the_notebook_the_cell_and_where_its_output_is(tmp_path, cell, timeout, expected):
    nb = tmp_path / "07_fails.ipynb"
    write_notebook(nb, ["print('first')", cell])
    failed = tmp_path / "scratch" / "notebooks" / "07_fails.failed.ipynb"
    run = lambda: reproduce._execute(nb, 1, 1, SimpleNamespace(scratch=tmp_path / "scratch"), {}, "python3", timeout,  # noqa: E731
                                     tmp_path, True, open(tmp_path / "log", "w"))
    if not expected:  # the control: the same notebook without the failure runs
        assert run() > 0 and not failed.exists()
        return
    with pytest.raises(reproduce.RunError) as err:
        run()
    assert str(err.value).startswith(expected.format(failed=failed)) and failed.exists()


def test_a_notebook_papermill_cannot_write_names_it_the_cause_and_leaves_no_partial_copy(tmp_path, monkeypatch):
    """papermill's own OSError (here a file-size limit while it saves the executed notebook): one
    sentence; the truncated copy and an older failed one are removed, not kept as <name>.failed.ipynb."""
    import errno

    import papermill

    def file_too_large(src, out, **kw):
        open(out, "w").write('{"cells": [')
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(papermill, "execute_notebook", file_too_large)
    done = tmp_path / "scratch" / "notebooks"
    done.mkdir(parents=True)
    (done / "03_fig1d_tsne.failed.ipynb").write_text("an earlier run's")
    nb = executed.notebooks("paper")[3]
    with pytest.raises(reproduce.RunError) as err:
        reproduce._execute(nb, 1, 1, SimpleNamespace(scratch=tmp_path / "scratch"), {}, "python3", 60, tmp_path, True,
                           open(tmp_path / "log", "w"))
    assert str(err.value) == (f"03_fig1d_tsne.ipynb: papermill could not read or write its executed copy "
                              f"{done / '03_fig1d_tsne.ipynb'}: the file would pass the process's file-size limit "
                              "(EFBIG, see ulimit -f); no partial notebook was kept. Fix: raise the limit "
                              "(ulimit -f unlimited), then run again.")
    assert sorted(p.name for p in done.iterdir()) == []


def test_workers_variable_is_checked_with_its_name(monkeypatch):
    from resdyn.lib.parallel import plan

    monkeypatch.setenv("RESDYN_WORKERS", "abc")
    with pytest.raises(ValueError, match="RESDYN_WORKERS must be an integer >= 1 .*got 'abc'"):
        plan(4)
    monkeypatch.setenv("RESDYN_WORKERS", "0")
    with pytest.raises(ValueError, match="RESDYN_WORKERS must be an integer >= 1 .*got '0'"):
        plan(4)


def test_old_fragments_survive_inputs_checked_at_the_start_of_the_run(tmp_path, monkeypatch):
    """A run with bad settings stops with a ValueError (DataError) naming them before it deletes a fragment or
    makes a folder: the environment's variables, the kernel, MNIST of a full run, the output folder."""
    import resdyn.core.data
    from resdyn.run import failures

    fragment = fragments.save_fragment(tmp_path / "out" / "results", "fig1c", complete_record().fig1c, identity={})
    before = sorted(tmp_path.rglob("*"))

    def refused(**kw):
        with pytest.raises((ValueError, resdyn.core.data.DataError)) as err:
            reproduce.run(**{"quick": True, "out_dir": str(tmp_path / "out"), **kw})
        assert fragment.exists() and sorted(tmp_path.rglob("*")) == before
        return str(err.value)

    for name, value, expected in (("RESDYN_WORKERS", "abc", "RESDYN_WORKERS must be an integer >= 1"),
                                  ("RESDYN_WORKERS", "0", "RESDYN_WORKERS must be an integer >= 1"),
                                  ("RESDYN_QUICK", "yes", 'RESDYN_QUICK must be "0" or "1"')):
        monkeypatch.setenv(name, value)
        assert expected in refused() and repr(value) in refused()
        monkeypatch.delenv(name)
    assert "--kernel 'nope' is no installed Jupyter kernel" in refused(kernel_name="nope")
    monkeypatch.setattr(resdyn.core.data, "_try_download", lambda root: (_ for _ in ()).throw(OSError("offline")))
    (tmp_path / "empty").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert f"MNIST not found under data root {tmp_path / 'empty'}" in refused(quick=False, data_root=str(tmp_path / "empty"))
    real = failures.os.access  # a folder its user cannot write (chmod does not stop root: its answer is given)
    monkeypatch.setattr(failures.os, "access", lambda p, mode: p != tmp_path / "out" and real(p, mode))
    assert refused().startswith(f"the record folder {tmp_path / 'out' / 'paper'} is not writable ({tmp_path / 'out'}, "
                                "where it would be made): permission denied (EACCES); nothing was run or deleted. Fix:")


def test_a_file_size_limit_too_small_for_a_run_is_refused_before_it_starts(tmp_path):
    import subprocess
    import sys

    fragment = fragments.save_fragment(tmp_path / "results", "fig1c", complete_record().fig1c, identity={})
    script = f"""
import resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (102400, resource.RLIM_INFINITY))
from resdyn.run.cli import main
main(["reproduce", "--quick", "--out", {str(tmp_path)!r}])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr == (
        "resdyn reproduce: error: the file-size limit (ulimit -f) is 102400 bytes, below the 256 MiB a run's files "
        "(trained nets, executed notebooks) may need; nothing was run or deleted. Fix: raise it (ulimit -f unlimited), "
        "then run again.\n")
    assert fragment.exists()


def test_notebooks_keep_what_a_checked_cell_prints_and_displays_as_text_not_images_or_stderr(tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    def notebook(outputs):
        cell = new_code_cell("# NBVAL_CHECK_OUTPUT\nverdict_text.table(verdicts)", execution_count=3)
        cell.id, cell.outputs = "checked", outputs
        other = new_code_cell("x = 1", execution_count=2)
        other.id, other.outputs = "other", [new_output("stream", name="stdout", text="not kept\n")]
        return new_notebook(cells=[other, cell])

    src, done = tmp_path / "src", tmp_path / "done"
    src.mkdir(), done.mkdir()
    nbformat.write(notebook([]), src / "01_x.ipynb")
    table = new_output("execute_result", data={"text/plain": "claim\n  verdict: holds", "text/markdown": "| claim |",
                                               "text/html": "<table/>"}, execution_count=3)
    nbformat.write(notebook([new_output("stream", name="stdout", text="quick mode\n"),
                             new_output("stream", name="stderr", text="epoch 1/2\r"), table,
                             new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"}),
                             new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {},
                                                              "text/plain": "bar"})]), done / "01_x.ipynb")
    monkeypatch.setattr(executed, "notebooks", lambda target=None: [src / "01_x.ipynb"])
    assert executed.refresh_checked_outputs(done) == [src / "01_x.ipynb"]
    other, cell = nbformat.read(src / "01_x.ipynb", as_version=4).cells
    assert other.outputs == [] and other.execution_count is None
    assert [o.get("name") or sorted(o["data"]) for o in cell.outputs] == ["stdout", ["text/markdown", "text/plain"]]
    assert cell.execution_count == 3


def test_readers_get_no_progress_widgets_and_no_stderr(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("nets = sections.fig1ab.nets(exp)", execution_count=1)
    cell.outputs = [new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                                                     "text/plain": "regime separate seed 0: 100%"}),
                    new_output("stream", name="stderr", text="regime separate seed 0:  50%|\r"),
                    new_output("stream", name="stdout", text="separate: test accuracy 0.98\n")]
    nbformat.write(new_notebook(cells=[cell]), tmp_path / "01_x.ipynb")
    clean = nbformat.read(executed.clean_executed(tmp_path / "01_x.ipynb", tmp_path / "clean.ipynb"), as_version=4)
    assert [o.get("text") for o in clean.cells[0].outputs] == ["separate: test accuracy 0.98\n"]
