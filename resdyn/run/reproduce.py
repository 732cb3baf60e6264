"""Run a target's numbered notebooks headless with papermill, merge their results, write the record.

    resdyn reproduce                  # the paper (notebooks 00-04): figures/, paper/results.json, REPORT.md
    resdyn reproduce --target seeds   # notebook 05, five seeds
    resdyn reproduce --target study   # notebooks 06-11
    resdyn reproduce --quick          # digits, minutes: writes build/quick/...

Before the paper notebooks run, every net they need that depends on no other net is trained side
by side (:func:`resdyn.lib.parallel.train_many`), printing one line per epoch. Executed notebooks go to
the run's scratch folder; a whole full run of seed 0 also writes them, cleaned, to ``paper/notebooks``
for readers. ``paper/`` is written only from a whole run of a target: every section, one identity
(see :mod:`resdyn.run.results`); a partial (``--only``) run or a run with another seed leaves it as it was.
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

from resdyn.lib import fragments
from resdyn.studies import machine, sections
from resdyn.core import paths
from resdyn.run import results, staleness
from resdyn.run.executed import clean_executed, notebooks
from resdyn.studies.experiment import STAGED_FIGURES, paper_jobs, run_dirs, setup
from resdyn.run.failures import RunError, check_run, notebook_failed
from resdyn.run.kernels import KERNELS_PREFIX, exit_status, kernel_options, remove_stale_folders
from resdyn.run.publish import publish_record, recover
from resdyn.core.model import check_seed
from resdyn.lib.parallel import plan, train_many


def select(target: str, only: list[str] | None) -> list[Path]:
    """The target's notebooks whose names start with one of ``only`` (all if ``only`` is empty)."""
    sections.of_target(target)  # validates the target
    selected = [nb for nb in notebooks(target) if not only or any(nb.name.startswith(o) for o in only)]
    if not selected:
        raise ValueError(f"only={only!r} matches no notebook of target {target!r}; choose from "
                         f"{[nb.name[:2] for nb in notebooks(target)]}.")
    return selected


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
    holds the output folder, a notebook fails, or a whole run's fragments do not make a record. The
    inputs, the environment and the output folders are checked before anything is deleted or made
    (:func:`resdyn.run.failures.check_run`): a ``ValueError`` names the one that is wrong."""
    check_seed(seed)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0):
        raise ValueError(f"timeout must be a number of seconds >= 0 (0: no limit) or None (the target's default), "
                         f"got {timeout!r}.")
    timeout = cell_timeout(target, quick) if timeout is None else (timeout or None)
    selected = select(target, only)
    dirs = run_dirs(quick, out_dir, seed=seed)
    check_run(quick, data_root, kernel_name, dirs)
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


@contextlib.contextmanager
def _run_environment(run_id: str, staged: Path):
    """The run id for the notebooks' kernels (``$RESDYN_RUN_ID``, which their fragments carry), the
    folder for their figures until the record is published (``$RESDYN_STAGED_FIGURES``), and a
    temporary folder for the kernels' IPC sockets, removed at the end (never in notebooks/). The
    socket folder's name holds this process's id, so that a run that was killed leaves nothing for
    long: every start removes the folders of processes that no longer exist."""
    import shutil
    import tempfile

    remove_stale_folders()
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


#: The folder in a run's scratch folder where its notebooks' figures wait for its record.
STAGED = "staged-figures"
#: The journal of a publication under way, in the run's scratch folder (:func:`publish`).
JOURNAL = "publish.json"
#: The name of a temporary file of :func:`resdyn.core.files.atomic_write` or :func:`publish`.
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
    notebook is kept as ``<name>.failed.ipynb`` (unless papermill could not write it) and raises
    :class:`RunError`, naming the notebook, the cause and the fix. The kernel process's own output
    goes to ``<name>.kernel.log`` beside it (what the notebook shows is logged by papermill)."""
    import papermill

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
    except Exception as exc:  # one sentence naming the notebook, the cause and the fix
        kept = failed if _keep_failed(tmp, failed, whole=not (isinstance(exc, OSError) and exc.errno)) else None
        raise RunError(notebook_failed(nb.name, exc, kept, kernel_log, exit_status(kernel_log), timeout)) from exc
    except BaseException:
        _keep_failed(tmp, failed)
        raise
    os.replace(tmp, executed / nb.name)
    failed.unlink(missing_ok=True)
    seconds = time.perf_counter() - t0
    print(f"      done in {seconds:.0f} s", file=log, flush=True)
    return seconds


def _keep_failed(tmp: Path, failed: Path, whole: bool = True) -> bool:
    """Keep the partial notebook ``tmp`` as ``failed`` (True); where papermill could not write it whole,
    or there is none, remove it and an older ``failed`` (False)."""
    if whole and tmp.exists():
        os.replace(tmp, failed)
        return True
    tmp.unlink(missing_ok=True)
    failed.unlink(missing_ok=True)
    return False


def _write_record(target, identity, records, seconds, selected, dirs, t_all, log) -> results.Results:
    import torch

    run_info = results.RunInfo(
        identity=identity, notebook_seconds=seconds, wall_seconds=time.perf_counter() - t_all,
        versions=machine.versions(), machine=machine.describe(), torch_threads=torch.get_num_threads(),
        workers=plan(99)[0], notebooks_run=[nb.stem for nb in selected], peak_rss_mb=machine.peak_rss_mb(),
        version=machine.package_version())
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
    """Publish ``record`` as one unit (:func:`resdyn.run.publish.publish_record`): REPORT.md, results.json and its
    schema in ``dirs.paper``, the figures in ``staged`` (the run's) in ``dirs.figures``; a full run's report
    names the targets computed by code that has changed since (:mod:`resdyn.run.staleness`)."""
    stale = {} if record.run is None or record.run.identity.get("mode") == "quick" else staleness.stale_code(record)
    publish_record(record, paper=dirs.paper, figures=dirs.figures, journal=dirs.scratch / JOURNAL, staged=staged,
                   stale=stale)
