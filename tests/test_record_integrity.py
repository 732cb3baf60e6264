"""A run's record is published whole (results.json, its schema, REPORT.md and the run's figures: the
old set or the new one, whatever fails or is killed when), and a killed run leaves no worker, socket
folder or temporary file for long."""
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from records import complete_record

from resdyn.lib import fragments
from resdyn.run import publish, report, reproduce, results, staleness
from resdyn.lib.writing import jsonable

FIGURES = {"seeds.png": b"new seeds png", "seeds.pdf": b"new seeds pdf", "extra.png": b"a figure the old set lacks"}


def folders(tmp_path):
    out = tmp_path / "out"
    dirs = SimpleNamespace(scratch=out, paper=out / "paper", figures=out / "figures")
    dirs.fragments = dirs.scratch / "results"
    return dirs


def old_and_new(tmp_path):
    """A published record (the old set: record, report, schema and two figures) and a new record with
    its staged figures."""
    dirs = folders(tmp_path)
    old = complete_record()
    old_figures = dirs.scratch / "old-figures"
    old_figures.mkdir(parents=True)
    (old_figures / "seeds.png").write_bytes(b"old seeds png")
    (old_figures / "seeds.pdf").write_bytes(b"old seeds pdf")
    reproduce.write(old, dirs, old_figures)
    new = complete_record(seeds=None)
    staged = dirs.scratch / reproduce.STAGED
    staged.mkdir()
    for name, content in FIGURES.items():
        (staged / name).write_bytes(content)
    return dirs, old, new, staged


def on_disk(dirs) -> dict:
    files = [dirs.paper / n for n in ("results.json", "results.schema.json", "REPORT.md")]
    files += sorted(p for p in dirs.figures.iterdir() if not p.name.startswith("."))
    return {str(p.relative_to(dirs.scratch)): p.read_bytes() for p in files if p.exists()}


def assert_whole(dirs, record, figures: dict):
    """The set on disk is ``record``'s: results.json holds it, REPORT.md is rendered from it, the
    figures are ``figures``, and no temporary file is left."""
    assert results.load(dirs.paper / "results.json") == record
    rendered = report.render(record, report_dir=dirs.paper, figures_dir=dirs.figures, stale=staleness.stale_code(record))
    assert (dirs.paper / "REPORT.md").read_text() == rendered
    assert json.loads((dirs.paper / "results.schema.json").read_text()) == jsonable(results.schema())
    assert {p.name: p.read_bytes() for p in dirs.figures.iterdir()} == figures
    assert not list(dirs.paper.glob(".*")) and not (dirs.scratch / reproduce.JOURNAL).exists()


def test_a_record_is_published_whole_with_its_figures(tmp_path):
    dirs, old, new, staged = old_and_new(tmp_path)
    assert_whole(dirs, old, {"seeds.png": b"old seeds png", "seeds.pdf": b"old seeds pdf"})
    reproduce.write(new, dirs, staged)
    assert_whole(dirs, new, FIGURES)


def test_a_failed_write_of_the_report_leaves_the_old_set_and_names_the_file(tmp_path, monkeypatch):
    """As a read-only paper folder does: the report's temporary file cannot be written."""
    dirs, old, new, staged = old_and_new(tmp_path)
    before = on_disk(dirs)
    write_text = publish.write_text

    def read_only(text, path):
        if Path(path).name.startswith(".REPORT.md."):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return write_text(text, path)

    monkeypatch.setattr(publish, "write_text", read_only)
    with pytest.raises(reproduce.RunError) as err:
        reproduce.write(new, dirs, staged)
    assert str(err.value).startswith(f"could not write {dirs.paper / 'REPORT.md'} (permission denied (EACCES)), so "
                                     "nothing of this run's record was published")
    assert "left as they were" in str(err.value) and "\n" not in str(err.value)  # one line, with its fix
    assert on_disk(dirs) == before
    assert not [p for d in (dirs.paper, dirs.figures) for p in d.iterdir() if p.name.startswith(".")]


def test_a_failed_rename_puts_the_old_files_back(tmp_path, monkeypatch):
    dirs, old, new, staged = old_and_new(tmp_path)
    before = on_disk(dirs)
    replace = os.replace
    done = []

    def fail_on_a_figure(src, dst):
        if Path(dst) == dirs.figures / "seeds.png":
            raise OSError(errno.EBUSY, "Device or resource busy")
        replace(src, dst)
        done.append(Path(dst).name)

    monkeypatch.setattr(os, "replace", fail_on_a_figure)
    with pytest.raises(reproduce.RunError) as err:
        reproduce.write(new, dirs, staged)
    assert str(err.value).startswith(f"could not replace {dirs.figures / 'seeds.png'} (Device or resource busy), so "
                                     "the previous results.json, REPORT.md and figures were put back")
    assert {"REPORT.md", "results.json", "extra.png"} <= set(done)  # they had been replaced
    assert on_disk(dirs) == before
    assert not [p for d in (dirs.paper, dirs.figures) for p in d.iterdir() if p.name.startswith(".")]


KILL_AT = """
import os, signal, sys
from pathlib import Path
from types import SimpleNamespace
from resdyn.run import reproduce, results

out, n = Path(sys.argv[1]), int(sys.argv[2])
dirs = SimpleNamespace(scratch=out, paper=out / "paper", figures=out / "figures")
replace = os.replace
count = [0]

def replace_then_die(src, dst):
    if Path(dst).parent in (dirs.paper, dirs.figures) and not Path(dst).name.startswith("."):  # a publishing rename
        if count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        count[0] += 1
    replace(src, dst)

os.replace = replace_then_die
new = results.load(out / "new.json")
reproduce.write(new, dirs, out / reproduce.STAGED)
"""


@pytest.mark.parametrize("renames, changed", [(0, 0), (1, 1), (4, 3)])
def test_a_run_killed_while_it_publishes_is_completed_at_the_next_start(tmp_path, renames, changed):
    """SIGKILL after ``renames`` of the publication's renames (REPORT.md, results.json, the schema,
    which is the same, then the figures): ``changed`` files on disk are new, the others old, until
    the next run starts, which completes the publication."""
    dirs, old, new, staged = old_and_new(tmp_path)
    before = on_disk(dirs)
    results_file = dirs.scratch / "new.json"
    results_file.write_text(json.dumps(results.to_dict(new)))
    proc = subprocess.run([sys.executable, "-c", KILL_AT, str(dirs.scratch), str(renames)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    now = on_disk(dirs)
    assert len({k for k in {*before, *now} if now.get(k) != before.get(k)}) == changed  # what a reader sees meanwhile
    assert (dirs.scratch / reproduce.JOURNAL).exists()
    log = []
    reproduce._recover(dirs, SimpleNamespace(write=log.append, flush=lambda: None))
    assert_whole(dirs, new, FIGURES)
    assert "a run was stopped while it published its record; the publication is completed" in "".join(log)


def test_a_run_killed_before_it_publishes_leaves_the_old_set(tmp_path):
    """SIGKILL while the new files are written beside the old ones (a figure's copy never ends): the
    old set stays, and the next start removes the temporary files."""
    dirs, old, new, staged = old_and_new(tmp_path)
    before = on_disk(dirs)
    results_file = dirs.scratch / "new.json"
    results_file.write_text(json.dumps(results.to_dict(new)))
    script = KILL_AT.replace("os.replace = replace_then_die", """
import shutil
def copy_then_die(src, dst, **kw):
    if Path(src).name == "seeds.pdf":
        os.kill(os.getpid(), signal.SIGKILL)
    return copyfile(src, dst, **kw)
copyfile, shutil.copyfile = shutil.copyfile, copy_then_die""")
    proc = subprocess.run([sys.executable, "-c", script, str(dirs.scratch), "0"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert on_disk(dirs) == before and not (dirs.scratch / reproduce.JOURNAL).exists()
    assert [p for d in (dirs.paper, dirs.figures) for p in d.iterdir() if p.name.startswith(".")]  # temporary files
    reproduce._recover(dirs, open(os.devnull, "w"))
    assert_whole(dirs, old, {"seeds.png": b"old seeds png", "seeds.pdf": b"old seeds pdf"})


def test_a_whole_run_publishes_its_figures_and_a_partial_run_none(tmp_path, monkeypatch):
    """The notebooks' figures wait in the run's staging folder: a whole run publishes them with its
    record, a partial (``--only``) run leaves the figures folder as it was."""
    out = tmp_path / "out"
    seeds = complete_record().seeds

    def notebook(nb, i, n, dirs, *args):  # what notebook 05 leaves: a figure, and its fragment
        staged = Path(os.environ["RESDYN_STAGED_FIGURES"])
        staged.mkdir(parents=True, exist_ok=True)
        (staged / "seeds.png").write_bytes(b"png of run " + os.environ["RESDYN_RUN_ID"].encode())
        if not os.environ.get("NO_FRAGMENT"):
            fragments.save_fragment(dirs.fragments, "seeds", seeds,
                                    identity={"run": os.environ["RESDYN_RUN_ID"], "mode": "quick", "seed": 0})
        return 1.0

    monkeypatch.setattr(reproduce, "_execute", notebook)
    log = tmp_path / "log"
    record = reproduce.run(target="seeds", quick=True, out_dir=str(out), log=open(log, "w"))
    assert record.seeds == seeds and (out / "figures" / "seeds.png").read_bytes().startswith(b"png of run ")
    published = on_disk(folders(tmp_path))
    monkeypatch.setenv("NO_FRAGMENT", "1")  # the notebook ran, its fragment is another run's: no record
    assert reproduce.run(target="seeds", quick=True, only=["05"], out_dir=str(out), log=open(log, "w")) is None
    assert on_disk(folders(tmp_path)) == published
    assert f"{out / 'paper'} and {out / 'figures'} left as they were (its figures are in {out / 'staged-figures'})" \
        in log.read_text()
    assert (out / "staged-figures" / "seeds.png").read_bytes() != published["figures/seeds.png"]


# -- a killed run leaves nothing for long ----------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_next_start_removes_what_a_killed_run_left(tmp_path, monkeypatch):
    """A SIGKILLed run leaves its kernels' socket folder (named with its process id), its running
    notebook, and temporary files of writes (a kernel killed mid-figure): the next start removes them,
    and leaves the socket folders of processes that are alive."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "out"
    stale = tmp_path / "tmp" / f"resdyn-kernels-{dead_pid()}-abcd1234"
    alive = tmp_path / "tmp" / f"resdyn-kernels-{os.getppid()}-abcd1234"
    unrelated = tmp_path / "tmp" / "resdyn-kernels-notapid"
    for folder in (stale, alive, unrelated):
        folder.mkdir()
        (folder / "kernel-1").write_text("")
    running = out / "notebooks" / ".05_seeds.running.ipynb"
    temps = [out / "figures" / ".seeds.png.a1b2c3_d.tmp", out / "paper" / ".REPORT.md.zzzzzzzz.tmp",
             out / "paper" / "notebooks" / ".01_x.ipynb.q1w2e3r4.tmp", out / "results" / ".seeds.json.00000000.tmp"]
    kept = [out / "figures" / "seeds.png", out / "figures" / ".notes.tmp", out / "paper" / "REPORT.md"]
    for path in [running, *temps, *kept]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("left")
    seen = []
    monkeypatch.setattr(reproduce, "_execute", lambda nb, i, n, dirs, params, kernel, timeout, kernels, *a:
                        seen.append(kernels) or 0.0)
    log = open(tmp_path / "log", "w")
    assert reproduce.run(target="seeds", quick=True, only=["05"], out_dir=str(out), log=log) is None
    assert not stale.exists() and alive.exists() and unrelated.exists()
    assert seen[0].name.startswith(f"resdyn-kernels-{os.getpid()}-") and not seen[0].exists()  # its own, removed
    assert not running.exists() and not any(p.exists() for p in temps) and all(p.exists() for p in kept)


SIGTERMED = """
import sys, time
from pathlib import Path
import papermill
from resdyn.run import reproduce

def notebook(src, out, **kw):  # a notebook that runs until it is stopped
    Path(out).write_text("{}")
    print("running", flush=True)
    time.sleep(120)

papermill.execute_notebook = notebook
reproduce.run(target="seeds", quick=True, out_dir=sys.argv[1])
"""


def test_a_sigtermed_run_cleans_up_and_says_what_it_stopped(tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", SIGTERMED, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TMPDIR": str(tmp)})
    assert proc.stdout.readline().strip() == "running"
    assert [p.name for p in tmp.iterdir()][0].startswith(f"resdyn-kernels-{proc.pid}-")  # what must go
    assert (out / "notebooks" / ".05_seeds.running.ipynb").exists()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143
    lines = stderr.strip().splitlines()
    assert lines[-1] == (f"resdyn reproduce: stopped by SIGTERM while running 05_seeds.ipynb (notebook 1 of 1); "
                         f"{out / 'paper'} and {out / 'figures'} hold the last record published whole, and this run's "
                         "kernel, socket folder and temporary files are removed.")
    assert not list(tmp.iterdir())
    assert not (out / "notebooks" / ".05_seeds.running.ipynb").exists()
    assert (out / "notebooks" / "05_seeds.failed.ipynb").exists()  # the partial output, kept as a failed run's


POOL = """
import os, sys, time
from joblib import Parallel, delayed
from resdyn.lib.parallel import pool_options

def job(folder, i):
    open(os.path.join(folder, str(os.getpid())), "w").close()
    time.sleep(120)

Parallel(n_jobs=2, **pool_options())(delayed(job)(sys.argv[1], i) for i in range(2))
"""


def process(pid: int) -> tuple[str, int] | None:
    """(state, parent's id) of process ``pid`` from /proc, None where it has ended (a zombie too)."""
    try:
        state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    except FileNotFoundError:
        return None
    return None if state == "Z" else (state, int(ppid))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_workers_end_with_their_parent(tmp_path):
    """The parent is SIGKILLed while both workers are busy with a job of two minutes: they end within
    seconds (loky's would run their job to its end, then wait for the next)."""
    parent = subprocess.Popen([sys.executable, "-c", POOL, str(tmp_path)])
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    try:
        assert len(workers) == 2 and all(process(w)[1] == parent.pid for w in workers)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while any(process(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if process(w)]
    finally:
        for w in workers:
            if process(w):
                os.kill(w, signal.SIGKILL)
