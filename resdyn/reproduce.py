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
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
from pathlib import Path

from . import fragments, machine, paths, report, results, sections, staleness
from .checked import is_checked
from .experiment import paper_jobs, run_dirs, setup
from .failures import RunError, check_run, notebook_failed
from .files import atomic_write, write_json, write_text
from .kernels import exit_status, kernel_options
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
    (:func:`resdyn.failures.check_run`): a ``ValueError`` names the one that is wrong."""
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
    with _exclusive(dirs), _run_environment(run_id) as kernels:
        for nb in selected:  # a notebook's old fragment never stands in for its new run
            (dirs.fragments / f"{own[nb.stem]}.json").unlink(missing_ok=True)
        if target == "paper":
            exp = setup(quick=quick, seed=seed, data_root=data_root, out_dir=out_dir, verbose=False)
            print(f"training the paper's nets side by side ({plan(99)[0]} workers); one line per epoch:", file=log,
                  flush=True)
            train_many(paper_jobs(exp))
        seconds = {nb.stem: _execute(nb, i, len(selected), dirs, params, kernel_name, timeout, kernels, quick, log)
                   for i, nb in enumerate(selected, 1)}
        try:
            identity, records = fragments.merge(fragments.load_fragments(dirs.fragments, own.values()),
                                                require=tuple(own.values()))
        except fragments.MixedRunError as exc:
            if only:
                print(f"a partial run (--only) never writes the record: {dirs.paper} left as it was.", file=log,
                      flush=True)
                return None
            raise RunError(f"this whole run of {target!r} made no record, {dirs.paper} left as it was: {exc}") from exc
        record = _write_record(target, identity, records, seconds, selected, dirs, t_all, log)
        if not quick and seed == 0 and out_dir is None:
            for nb in notebooks(target):
                clean_executed(dirs.scratch / "notebooks" / nb.name, paths.EXECUTED_DIR / nb.name)
    print(f"wrote {dirs.paper / 'results.json'}, {dirs.paper / 'REPORT.md'} and figures in {dirs.figures} "
          f"({record.runs[target].wall_seconds:.0f} s)", file=log, flush=True)
    return record


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
def _run_environment(run_id: str):
    """The run id for the notebooks' kernels (``$RESDYN_RUN_ID``, which their fragments carry), and a
    temporary folder for the kernels' IPC sockets, removed at the end (never in notebooks/)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="resdyn-kernels-"))
    before = os.environ.get("RESDYN_RUN_ID")
    os.environ["RESDYN_RUN_ID"] = run_id
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop("RESDYN_RUN_ID", None)
        else:
            os.environ["RESDYN_RUN_ID"] = before
        shutil.rmtree(folder, ignore_errors=True)


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
    write(record, dirs)
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


def write(record: results.Results, dirs) -> None:
    """results.json, its schema and REPORT.md of ``record`` in ``dirs.paper``."""
    write_json(results.to_dict(record), dirs.paper / "results.json")
    write_json(results.schema(), dirs.paper / "results.schema.json")
    stale = {} if record.run is None or record.run.identity.get("mode") == "quick" else staleness.stale_code(record)
    write_text(report.render(record, report_dir=dirs.paper, figures_dir=dirs.figures, stale=stale),
               dirs.paper / "REPORT.md")


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
