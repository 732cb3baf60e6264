"""Run a target's numbered notebooks headless with papermill, merge their results, write the record.

    resdyn reproduce                  # the paper (notebooks 00-04): figures/, paper/results.json, REPORT.md
    resdyn reproduce --target seeds   # notebook 05, five seeds
    resdyn reproduce --target study   # notebooks 06-10
    resdyn reproduce --quick          # digits, minutes: writes build/quick/...

Before the paper notebooks run, every net they need that depends on no other net is trained side
by side (:func:`resdyn.parallel.train_many`), printing one line per epoch. Executed notebooks go to
the run's scratch folder; a whole full run of seed 0 also writes them, cleaned, to ``paper/notebooks``
for readers. ``paper/`` is written only from a whole run of a target: every section, one identity
(see :mod:`resdyn.results`); a partial (``--only``) run or a run with another seed leaves it as it was.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from . import fragments, machine, paths, report, results, sections
from .experiment import paper_jobs, run_dirs, setup
from .files import write_json, write_text
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


def run(*, target: str = "paper", quick: bool = False, seed: int = 0, data_root: str | None = None,
        out_dir: str | None = None, only: list[str] | None = None, kernel_name: str = "python3",
        timeout: int = 3600, log=sys.stderr) -> results.Results | None:
    """Execute the target's notebooks (all, or those whose name starts with one of ``only``), then
    merge their fragments into the record and write results.json, the report and the executed notebooks.

    Returns the record, or ``None`` when the fragments do not make a whole record of one run of the
    target (a partial run): then nothing is written to the report folder and ``log`` says why."""
    import papermill

    selected = select(target, only)
    dirs = run_dirs(quick, out_dir, seed=seed)
    executed = dirs.scratch / "notebooks"
    executed.mkdir(parents=True, exist_ok=True)
    own = {s.notebook: s.name for s in sections.of_target(target)}
    for nb in selected:  # a notebook's old fragment never stands in for its new run
        (dirs.fragments / f"{own[nb.stem]}.json").unlink(missing_ok=True)
    params = {"quick": quick, "seed": seed, "data_root": None if data_root is None else str(Path(data_root).resolve()),
              "out_dir": None if out_dir is None else str(Path(out_dir).resolve())}
    t_all = time.perf_counter()
    if target == "paper":
        exp = setup(quick=quick, seed=seed, data_root=data_root, out_dir=out_dir, verbose=False)
        print(f"training the paper's nets side by side ({plan(99)[0]} workers); one line per epoch:", file=log, flush=True)
        train_many(paper_jobs(exp))
    seconds = {}
    for i, nb in enumerate(selected, 1):
        print(f"[{i}/{len(selected)}] {nb.name} ({'quick' if quick else 'full'} mode)", file=log, flush=True)
        t0 = time.perf_counter()
        papermill.execute_notebook(
            str(nb), str(executed / nb.name), parameters=params, kernel_name=kernel_name, cwd=str(paths.NOTEBOOKS_DIR),
            progress_bar=False, log_output=True, execution_timeout=timeout, **KERNEL_OPTIONS)
        seconds[nb.stem] = time.perf_counter() - t0
        print(f"      done in {seconds[nb.stem]:.0f} s", file=log, flush=True)
    try:
        identity, records = fragments.merge(fragments.load_fragments(dirs.fragments, own.values()),
                                            require=tuple(own.values()))
    except fragments.MixedRunError as exc:
        print(f"{dirs.paper} left as it was: {exc}", file=log, flush=True)
        return None
    import torch

    run_info = results.RunInfo(
        identity=identity, notebook_seconds=seconds, wall_seconds=time.perf_counter() - t_all,
        versions=machine.versions(), machine=machine.describe(), torch_threads=torch.get_num_threads(),
        workers=plan(99)[0], notebooks_run=[nb.stem for nb in selected], peak_rss_mb=machine.peak_rss_mb())
    previous = _load_previous(dirs.paper / "results.json", log)
    record = results.combine(previous, target, records, run_info)
    write(record, dirs)
    if not quick and seed == 0 and out_dir is None:
        for nb in notebooks(target):
            clean_executed(executed / nb.name, paths.EXECUTED_DIR / nb.name)
    print(f"wrote {dirs.paper / 'results.json'}, {dirs.paper / 'REPORT.md'} and figures in {dirs.figures} "
          f"({run_info.wall_seconds:.0f} s)", file=log, flush=True)
    return record


class _NoTrailingNewline(logging.Filter):
    """papermill logs each piece of a notebook's stderr as it comes, newline included, and logging
    adds its own: without this filter every progress line is followed by an empty one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = record.msg.rstrip("\n")
        return True


logging.getLogger("papermill").addFilter(_NoTrailingNewline())


def _kernel_options() -> dict:
    """The notebooks' kernels talk to papermill over local IPC sockets, not TCP: on TCP every kernel
    warns that it runs "without encryption", noise on one machine, where IPC is the right transport."""
    from traitlets.config import Config

    return {"config": Config({"KernelManager": {"transport": "ipc"}})}


KERNEL_OPTIONS = _kernel_options()


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
    write_text(report.render(record, report_dir=dirs.paper, figures_dir=dirs.figures), dirs.paper / "REPORT.md")


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

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _is_checked(cell) -> bool:
    return cell.cell_type == "code" and (
        cell.source.lstrip().startswith(CHECK_MARK) or "nbval-check-output" in cell.metadata.get("tags", [])
    )


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
                rf"> The **executed full run** (MNIST, seed 0) of [`notebooks/{name}`](../../notebooks/{name}), with every "
                r"output · \1../REPORT.md\2.", cell.source, flags=re.M)
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            for o in cell.outputs:
                if "text/plain" in o.get("data", {}):
                    o["data"]["text/plain"] = re.sub(r" at 0x[0-9a-f]+", "", o["data"]["text/plain"])
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return Path(dst)


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
            if _is_checked(cell):
                done = by_id[cell.id]
                cell.outputs = [o for o in done.outputs if o.get("output_type") == "stream" and o.get("name") == "stdout"]
                cell.execution_count = done.execution_count
            else:
                cell.outputs, cell.execution_count = [], None
        nb.metadata.pop("papermill", None)
        nbformat.write(nb, src)
        written.append(src)
    return written
