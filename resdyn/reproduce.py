"""Run a target's numbered notebooks headless with papermill, merge their results, write the record.

    resdyn reproduce                  # the paper (notebooks 00-04): figures/, paper/results.json, REPORT.md
    resdyn reproduce --target seeds   # notebook 05, five seeds
    resdyn reproduce --target study   # notebooks 06-11
    resdyn reproduce --quick          # digits, minutes: writes build/quick/...

Before the paper notebooks run, every net they need that depends on no other net is trained side
by side (:func:`resdyn.parallel.train_many`), printing one line per epoch. Executed notebooks go to
the run's scratch folder; a whole full run of seed 0 also writes them, cleaned, to ``paper/notebooks``
for readers. ``paper/`` is written only from a whole run of a target: every section, one identity
(see :mod:`resdyn.results`); a partial (``--only``) run or a run with another seed leaves it as it was.
The notebooks write their figures to the run's staging folder; the record, its report and the
figures are published together at the end (:func:`publish`), so that a run that fails or is killed
at any moment leaves the previous ones whole. A killed run's leftovers (a publication under way,
kernel socket folders, temporary files) are dealt with when the next run starts (:func:`_recover`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
import uuid
from pathlib import Path

from . import fragments, machine, paths, report, results, sections
from .checked import is_checked
from .experiment import STAGED_FIGURES, paper_jobs, run_dirs, setup
from .files import atomic_write, read_json, write_json, write_text
from .kernels import kernel_options
from .model import check_seed
from .parallel import plan, train_many


def notebooks(target: str | None = None) -> list[Path]:
    """The registered notebooks (of ``target``), in order."""
    entries = sections.SECTIONS if target is None else sections.of_target(target)
    return [paths.NOTEBOOKS_DIR / f"{s.notebook}.ipynb" for s in entries]


def select(target: str, only: list[str] | None) -> list[Path]:
    """The target's notebooks whose names start with one of ``only`` (all if ``only`` is empty)."""
    sections.of_target(target)  # validates the target
    selected = [nb for nb in notebooks(target) if not only or any(nb.name.startswith(o) for o in only)]
    if not selected:
        raise ValueError(f"only={only!r} matches no notebook of target {target!r}; choose from "
                         f"{[nb.name[:2] for nb in notebooks(target)]}.")
    return selected


class RunError(RuntimeError):
    """A run that cannot do what it was asked: another run holds the folder, a kernel died, or a
    whole run's fragments do not make its record."""


#: The most seconds one notebook cell may run in quick mode and in the paper target (CI's job), so
#: that a hung kernel fails the run. The other targets' full runs train in one cell for hours (the
#: regimes target: many hours on 2 CPU cores; it stopped at this limit on 2026-12-03), so their cells
#: have no limit.
CELL_TIMEOUT = 3600


def cell_timeout(target: str, quick: bool) -> int | None:
    """The default per-cell limit in seconds of a run (None: none), :data:`CELL_TIMEOUT` where it applies."""
    return CELL_TIMEOUT if quick or target == "paper" else None


def run(*, target: str = "paper", quick: bool = False, seed: int = 0, data_root: str | None = None,
        out_dir: str | None = None, only: list[str] | None = None, kernel_name: str = "python3",
        timeout: int | None = None, log=sys.stderr) -> results.Results | None:
    """Execute the target's notebooks (all, or those whose name starts with one of ``only``), then
    merge their fragments into the record and write results.json, the report and the executed notebooks.

    Every invocation has its own run id, which its notebooks' fragments carry: the record is made
    from one whole run's fragments only. Returns the record, or ``None`` for a partial run (``only``),
    which never writes the record. ``timeout``: the most seconds one cell may run, 0 for no limit,
    None for the target's default (:func:`cell_timeout`). Raises :class:`RunError` when another run
    holds the output folder, a kernel dies, or a whole run's fragments do not make a record. The
    inputs are checked before anything is touched."""
    check_seed(seed)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0):
        raise ValueError(f"timeout must be a number of seconds >= 0 (0: no limit) or None (the target's default), "
                         f"got {timeout!r}.")
    timeout = cell_timeout(target, quick) if timeout is None else (timeout or None)
    selected = select(target, only)
    dirs = run_dirs(quick, out_dir, seed=seed)
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    params = {"quick": quick, "seed": seed, "data_root": None if data_root is None else str(Path(data_root).resolve()),
              "out_dir": None if out_dir is None else str(Path(out_dir).resolve())}
    own = {s.notebook: s.name for s in sections.of_target(target)}
    t_all = time.perf_counter()
    with _terminable(dirs, log), _exclusive(dirs), _run_environment(run_id, dirs.scratch / STAGED) as kernels:
        _recover(dirs, log)
        for nb in selected:  # a notebook's old fragment never stands in for its new run
            (dirs.fragments / f"{own[nb.stem]}.json").unlink(missing_ok=True)
        if target == "paper":
            exp = setup(quick=quick, seed=seed, data_root=data_root, out_dir=out_dir, verbose=False)
            print(f"training the paper's nets side by side ({plan(99)[0]} workers); one line per epoch:", file=log,
                  flush=True)
            _now["doing"] = "training the paper's nets"
            train_many(paper_jobs(exp))
        seconds = {nb.stem: _execute(nb, i, len(selected), dirs, params, kernel_name, timeout, kernels, quick, log)
                   for i, nb in enumerate(selected, 1)}
        try:
            identity, records = fragments.merge(fragments.load_fragments(dirs.fragments, own.values()),
                                                require=tuple(own.values()))
        except fragments.MixedRunError as exc:
            if only:
                print(f"a partial run (--only) never writes the record: {dirs.paper} and {dirs.figures} left as "
                      f"they were (its figures are in {dirs.scratch / STAGED}).", file=log, flush=True)
                return None
            raise RunError(f"this whole run of {target!r} made no record, {dirs.paper} left as it was: {exc}") from exc
        record = _write_record(target, identity, records, seconds, selected, dirs, t_all, log)
        if not quick and seed == 0 and out_dir is None:
            for nb in notebooks(target):
                clean_executed(dirs.scratch / "notebooks" / nb.name, paths.EXECUTED_DIR / nb.name)
    print(f"wrote {dirs.paper / 'results.json'}, {dirs.paper / 'REPORT.md'} and figures in {dirs.figures} "
          f"({record.runs[target].wall_seconds:.0f} s)", file=log, flush=True)
    return record


#: What the run in this process is doing, for the line that says what a SIGTERM stopped.
_now = {"doing": "starting"}


class Terminated(BaseException):
    """SIGTERM, raised in the run's main thread so that every ``finally`` and ``with`` on the way out
    runs: the kernel is shut down, its socket folder removed, the running notebook kept as
    ``.failed.ipynb``, the lock released."""


@contextlib.contextmanager
def _terminable(dirs, log):
    """SIGTERM ends the run as :class:`Terminated` (a second SIGTERM is ignored while it cleans up),
    then with one line saying what it stopped and exit status 143, the shell's for SIGTERM."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # only the main thread gets signals
        yield
        return

    def stop(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    _now["doing"] = "starting"
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except Terminated:
        print(f"resdyn reproduce: stopped by SIGTERM while {_now['doing']}; {dirs.paper} and {dirs.figures} hold the "
              "last record published whole, and this run's kernel, socket folder and temporary files are removed.",
              file=log, flush=True)
        raise SystemExit(143) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _exclusive(dirs):
    """One run per output folder: a lock (filelock) in the run's scratch folder, held for the run."""
    from filelock import FileLock, Timeout

    dirs.scratch.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(dirs.scratch / ".run.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunError(f"another resdyn reproduce is writing to {dirs.paper} and {dirs.figures} (it holds "
                       f"{lock.lock_file}); wait for it to end, or give this run its own folder with --out.") from None
    try:
        yield
    finally:
        lock.release()


#: The start of the name of a run's folder for its kernels' sockets, followed by the run's process id.
KERNELS_PREFIX = "resdyn-kernels-"


@contextlib.contextmanager
def _run_environment(run_id: str, staged: Path):
    """The run id for the notebooks' kernels (``$RESDYN_RUN_ID``, which their fragments carry), the
    folder for their figures until the record is published (``$RESDYN_STAGED_FIGURES``), and a
    temporary folder for the kernels' IPC sockets, removed at the end (never in notebooks/). The
    socket folder's name holds this process's id, so that a run that was killed leaves nothing for
    long: every start removes the folders of processes that no longer exist."""
    import shutil
    import tempfile

    _remove_stale_kernel_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{KERNELS_PREFIX}{os.getpid()}-"))
    before = {name: os.environ.get(name) for name in ("RESDYN_RUN_ID", STAGED_FIGURES)}
    os.environ.update({"RESDYN_RUN_ID": run_id, STAGED_FIGURES: str(staged)})
    try:
        yield folder
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


def _remove_stale_kernel_folders() -> list[Path]:
    """Remove the kernels' socket folders (in the temporary folder) of runs whose process is gone."""
    import shutil
    import tempfile

    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{KERNELS_PREFIX}*"):
        owner = re.fullmatch(rf"{KERNELS_PREFIX}(\d+)-\w+", folder.name)
        if owner and folder.is_dir() and not _alive(int(owner[1])):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's included)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: The folder in a run's scratch folder where its notebooks' figures wait for its record.
STAGED = "staged-figures"
#: The journal of a publication under way, in the run's scratch folder (:func:`publish`).
JOURNAL = "publish.json"
#: The name of a temporary file of :func:`resdyn.files.atomic_write` or :func:`publish`.
_TEMP = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def _recover(dirs, log) -> None:
    """What a killed run left, removed under the run's lock, before anything else: its publication
    completed or undone (:func:`recover`), its running notebook, the temporary files of its writes
    in the paper, figures and fragments folders (a kernel killed mid-figure leaves one), and its
    staged figures."""
    import shutil

    line = recover(dirs.scratch / JOURNAL)
    if line:
        print(line, file=log, flush=True)
    for stale in (dirs.scratch / "notebooks").glob(".*.running.ipynb"):
        stale.unlink(missing_ok=True)
    for folder in (dirs.paper, dirs.figures, dirs.fragments):
        for stale in folder.rglob(".*.tmp") if folder.is_dir() else ():
            if _TEMP.fullmatch(stale.name) and stale.is_file():
                stale.unlink(missing_ok=True)
    shutil.rmtree(dirs.scratch / STAGED, ignore_errors=True)


def _execute(nb: Path, i: int, n: int, dirs, params: dict, kernel_name: str, timeout: int | None, kernels: Path,
             quick: bool, log) -> float:
    """Run notebook ``nb`` with papermill into the scratch folder, whole or not at all: a failed
    notebook is kept as ``<name>.failed.ipynb`` and raises, naming the notebook and the fix. The
    kernel process's own output goes to ``<name>.kernel.log`` beside it (what the notebook shows is
    logged by papermill)."""
    import papermill
    from nbclient.exceptions import DeadKernelError

    executed = dirs.scratch / "notebooks"
    executed.mkdir(parents=True, exist_ok=True)
    tmp, failed = executed / f".{nb.stem}.running.ipynb", executed / f"{nb.stem}.failed.ipynb"
    kernel_log = executed / f"{nb.stem}.kernel.log"
    kernel_log.unlink(missing_ok=True)
    print(f"[{i}/{n}] {nb.name} ({'quick' if quick else 'full'} mode)", file=log, flush=True)
    _now["doing"] = f"running {nb.name} (notebook {i} of {n})"
    t0 = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(nb), str(tmp), parameters=params, kernel_name=kernel_name, cwd=str(paths.NOTEBOOKS_DIR),
            progress_bar=False, log_output=True, execution_timeout=timeout, **kernel_options(kernels, kernel_log))
    except DeadKernelError as exc:
        _keep_failed(tmp, failed)
        raise RunError(f"{nb.name}: the kernel died ({exc}); most likely it ran out of memory. Its partial output "
                       f"is {failed}, the kernel's own output {kernel_log}. Fix: close other jobs, or run with fewer "
                       "workers (RESDYN_WORKERS=1).") from None
    except BaseException:
        _keep_failed(tmp, failed)
        raise
    os.replace(tmp, executed / nb.name)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    print(f"      done in {seconds:.0f} s", file=log, flush=True)
    return seconds


def _keep_failed(tmp: Path, failed: Path) -> None:
    if tmp.exists():
        os.replace(tmp, failed)


def _write_record(target, identity, records, seconds, selected, dirs, t_all, log) -> results.Results:
    import torch

    run_info = results.RunInfo(
        identity=identity, notebook_seconds=seconds, wall_seconds=time.perf_counter() - t_all,
        versions=machine.versions(), machine=machine.describe(), torch_threads=torch.get_num_threads(),
        workers=plan(99)[0], notebooks_run=[nb.stem for nb in selected], peak_rss_mb=machine.peak_rss_mb())
    previous = _load_previous(dirs.paper / "results.json", log)
    record = results.combine(previous, target, records, run_info)
    _now["doing"] = "publishing the record"
    write(record, dirs, dirs.scratch / STAGED)
    return record


class _NoTrailingNewline(logging.Filter):
    """papermill logs each piece of a notebook's stderr as it comes, newline included, and logging
    adds its own: without this filter every progress line is followed by an empty one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.rstrip("\n")
        return True


logging.getLogger("papermill").addFilter(_NoTrailingNewline())


def _load_previous(path: Path, log) -> results.Results | None:
    if not path.exists():
        return None
    try:
        return results.load(path)
    except Exception as exc:  # an older schema: the other targets' sections cannot be kept
        print(f"{path} does not fit the current schema ({type(exc).__name__}); the other targets' sections are "
              "dropped: re-run them.", file=log, flush=True)
        return None


def write(record: results.Results, dirs, staged: Path | None = None) -> None:
    """Publish ``record`` as one unit (:func:`publish`): REPORT.md, results.json and its schema in
    ``dirs.paper``, and the figures in ``staged`` (the run's) in ``dirs.figures``."""
    import shutil

    text = report.render(record, report_dir=dirs.paper, figures_dir=dirs.figures)
    files = {dirs.paper / "REPORT.md": lambda tmp: write_text(text, tmp),
             dirs.paper / "results.json": lambda tmp: write_json(results.to_dict(record), tmp),
             dirs.paper / "results.schema.json": lambda tmp: write_json(results.schema(), tmp)}
    figures = sorted(staged.iterdir()) if staged is not None and staged.is_dir() else []
    for src in (f for f in figures if f.is_file() and not f.name.startswith(".")):
        files[dirs.figures / src.name] = lambda tmp, src=src: atomic_write(tmp, lambda t: shutil.copyfile(src, t))
    publish(files, dirs.scratch / JOURNAL)


def publish(files: dict, journal: Path) -> None:
    """Replace every file of ``files`` ({destination: write(tmp)}) as one unit: a failure or a kill at
    any moment leaves either every old file or every new one.

    Each new file is written to a temporary file beside its destination, and each old one copied
    aside, in the order of ``files`` (a failure here changes nothing); then ``journal`` lists them,
    and from then on the publication completes: each temporary file replaces its destination by a
    rename. A failed rename puts every old file back; a kill leaves the journal, from which
    :func:`recover` completes the publication at the next start. Raises :class:`RunError` naming the
    file that could not be written or replaced."""
    entries, path = [], None
    try:
        for path, write_new in files.items():
            entries.append(_stage(Path(path), write_new))
        path = journal
        write_json({"state": "forward", "entries": entries}, journal)
    except BaseException as exc:  # nothing is replaced yet
        journal.unlink(missing_ok=True)
        _drop(entries)
        if not isinstance(exc, OSError):
            raise
        raise RunError(f"could not write {path} ({_reason(exc)}), so nothing of this run's record was published and "
                       "the previous results.json, REPORT.md and figures are left as they were; fix the file's or its "
                       "folder's permissions (or free disk space), then run again.") from exc
    try:
        for entry in entries:
            path = entry["dst"]
            os.replace(entry["tmp"], entry["dst"])
    except OSError as exc:
        with contextlib.suppress(OSError):
            write_json({"state": "back", "entries": entries}, journal)
        _roll_back(entries)
        journal.unlink(missing_ok=True)
        _drop(entries)
        raise RunError(f"could not replace {path} ({_reason(exc)}), so the previous results.json, REPORT.md and "
                       "figures were put back; fix the file or its folder (is it a folder, or locked?), then run "
                       "again.") from exc
    except BaseException:  # an interrupt past the journal: the publication completes before it goes on
        _roll_forward(entries)
        journal.unlink()
        _drop(entries)
        raise
    journal.unlink()
    _drop(entries)


def recover(journal: Path) -> str | None:
    """Complete the publication that ``journal`` records, one that a killed process left (or undo
    it, where its process was putting the old files back); then a line saying so, or None where
    there is no journal."""
    if not journal.exists():
        return None
    state = read_json(journal)
    entries = state["entries"]
    if state["state"] == "forward":
        _roll_forward(entries)
        done = "completed (its record and figures are in place)"
    else:
        _roll_back(entries)
        done = "undone (the record and figures before it are back)"
    journal.unlink()
    _drop(entries)
    return f"{journal}: a run was stopped while it published its record; the publication is {done}."


def _stage(dst: Path, write_new) -> dict:
    """``dst``'s entry in the journal: its new content in a temporary file beside it, its old
    content (if any) copied to another."""
    import shutil

    entry = {"dst": str(dst), "tmp": _temp_beside(dst), "bak": None}
    try:
        write_new(Path(entry["tmp"]))
        if os.path.lexists(dst):
            entry["bak"] = _temp_beside(dst)
            shutil.copy2(dst, entry["bak"])
    except BaseException:
        _drop([entry])
        raise
    return entry


def _temp_beside(path: Path) -> str:
    """A new empty file beside ``path``, named as :func:`resdyn.files.atomic_write` names its own."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return name


def _roll_forward(entries: list[dict]) -> None:
    """Every new file that has not replaced its destination yet does so."""
    for e in entries:
        if os.path.exists(e["tmp"]):
            os.replace(e["tmp"], e["dst"])


def _roll_back(entries: list[dict]) -> None:
    """Every destination that a new file replaced gets its old file back (or is removed, where
    there was none); the new files not yet in place are removed."""
    for e in entries:
        if os.path.exists(e["tmp"]):
            os.unlink(e["tmp"])
        elif e["bak"] is None:
            Path(e["dst"]).unlink(missing_ok=True)
        elif os.path.exists(e["bak"]):
            os.replace(e["bak"], e["dst"])


def _drop(entries: list[dict]) -> None:
    """Remove the temporary files and copies of old files of ``entries`` that are left."""
    for e in entries:
        for name in (e["tmp"], e["bak"]):
            if name is not None:
                Path(name).unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    """The operating system's words for ``exc`` (the first error's, where it was re-raised)."""
    root = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    return root.strerror or str(root)


def compare_verdicts(before: results.Results, after: results.Results) -> list[str]:
    """Lines describing every verdict that changed, appeared or disappeared between two records."""
    a = {v.key: v.verdict for v in before.verdicts}
    b = {v.key: v.verdict for v in after.verdicts}
    return [f"{k}: {a.get(k, 'missing')} -> {b.get(k, 'missing')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


# ----------------------------------------------------------------------------------------------
# figures: the committed ones must stay true to the code

def compare_figures(expected_dir: str | Path, actual_dir: str | Path, tolerance: dict | None = None) -> list[str]:
    """One line per figure of ``tolerance`` (default: the paper target's, :func:`resdyn.sections.figure_tolerances`) whose PNG in
    ``actual_dir`` is missing or differs from ``expected_dir``'s by more than its RMS tolerance."""
    import matplotlib.image as mpimg
    import numpy as np
    from matplotlib.testing.compare import calculate_rms

    problems = []
    for name, tol in (tolerance or sections.figure_tolerances()).items():
        expected, actual = Path(expected_dir) / f"{name}.png", Path(actual_dir) / f"{name}.png"
        if not actual.exists() or not expected.exists():
            problems.append(f"{name}.png: missing in {actual_dir if not actual.exists() else expected_dir}")
            continue
        a, b = (np.asarray(mpimg.imread(p)[..., :3] * 255, dtype=np.int16) for p in (expected, actual))
        if a.shape != b.shape:
            problems.append(f"{name}.png: size {b.shape[1]}x{b.shape[0]}, committed {a.shape[1]}x{a.shape[0]}")
            continue
        rms = calculate_rms(a, b)
        if rms > tol:
            problems.append(f"{name}.png: RMS difference {rms:.2f} > tolerance {tol}")
    return problems


# ----------------------------------------------------------------------------------------------
# notebooks for readers and for nbval

def clean_executed(src: str | Path, dst: str | Path) -> Path:
    """Write executed notebook ``src`` to ``dst`` for readers: every figure and table kept; stderr
    (progress lines, warnings), the metadata that changes from run to run (papermill's timings and
    paths, execution timestamps, the injected cell's random id) and memory addresses in object reprs removed; so two runs of the
    same code give the same bytes. The source notebook's links to its executed twin are made
    relative to the twin's folder."""
    import re

    import nbformat

    nb = nbformat.read(src, as_version=4)
    nb.metadata.pop("papermill", None)
    name = Path(dst).name
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id in each run
        if cell.cell_type == "markdown":  # the source's note on its stored outputs becomes the twin's own
            cell.source = re.sub(
                r"^> \*\*Executed full run\*\*.*?· (\*\*Report\*\*: \[[^]]*\]\()\.\./paper/REPORT\.md(#[^)]*\)).*$",
                rf"> The **executed full run** (full mode, seed 0) of [`notebooks/{name}`](../../notebooks/{name}), with every "
                r"output · \1../REPORT.md\2.", cell.source, flags=re.M)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams([o for o in cell.outputs
                                           if not (o.get("output_type") == "stream" and o.get("name") == "stderr")])
            for o in cell.outputs:
                if "text/plain" in o.get("data", {}):
                    o["data"]["text/plain"] = re.sub(r" at 0x[0-9a-f]+", "", o["data"]["text/plain"])
    atomic_write(dst, lambda tmp: nbformat.write(nb, str(tmp)))
    return Path(dst)


def _merge_streams(outputs: list) -> list:
    """Consecutive stdout pieces as one output: how a cell's prints are split into messages depends
    on timing (a slow cache read splits them), so unmerged they differ from run to run."""
    merged = []
    for o in outputs:
        if merged and o.get("output_type") == "stream" and merged[-1].get("output_type") == "stream" \
                and o.get("name") == merged[-1].get("name"):
            merged[-1]["text"] = "".join(merged[-1]["text"]) + "".join(o["text"])
        else:
            merged.append(o)
    return merged


def refresh_checked_outputs(executed_dir: str | Path, target: str | None = None) -> list[Path]:
    """Copy the outputs of the checked cells from executed notebooks into ``notebooks/``.

    Every other output is removed, so the committed notebooks diff well and nbval compares
    exactly the checked cells. Run after a quick run: ``resdyn reproduce --quick --update-notebooks``.
    """
    import nbformat

    written = []
    for src in notebooks(target):
        done_path = Path(executed_dir) / src.name
        if not done_path.exists():
            continue
        executed = nbformat.read(done_path, as_version=4)
        by_id = {c.get("id"): c for c in executed.cells}
        nb = nbformat.read(src, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            if is_checked(cell):
                done = by_id[cell.id]
                cell.outputs = [o for o in done.outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
                cell.execution_count = done.execution_count
            else:
                cell.outputs, cell.execution_count = [], None
        nb.metadata.pop("papermill", None)
        atomic_write(src, lambda tmp, nb=nb: nbformat.write(nb, str(tmp)))
        written.append(src)
    return written
