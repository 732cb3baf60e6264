"""Run every numbered notebook headless with papermill, then merge results and write the report.

    resdyn reproduce            # full run: MNIST, writes figures/, paper/results.json, paper/REPORT.md
    resdyn reproduce --quick    # digits, minutes: writes build/quick/...

Executed notebooks go to the run's scratch folder (``build/full/notebooks`` or
``build/quick/notebooks``); the notebooks in ``notebooks/`` are never overwritten. The record in
``paper/`` is written only from a whole run: every section, one identity (see :mod:`resdyn.results`).
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from . import claims, machine, paths, report, results
from .experiment import run_dirs


def notebooks() -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def select(only: list[str] | None) -> list[Path]:
    """The notebooks whose names start with one of ``only`` (all if ``only`` is empty)."""
    selected = [nb for nb in notebooks() if not only or any(nb.name.startswith(o) for o in only)]
    if not selected:
        raise ValueError(f"only={only!r} matches no notebook; choose from {[nb.name[:2] for nb in notebooks()]}.")
    return selected


def run(*, quick: bool = False, seed: int = 0, data_root: str | None = None, out_dir: str | None = None,
        only: list[str] | None = None, kernel_name: str = "python3", timeout: int = 3600,
        log=sys.stderr) -> results.Results | None:
    """Execute the notebooks (all, or those whose name starts with one of ``only``), then merge
    their fragments and write results.json and the report.

    Returns the merged record, or ``None`` when the fragments do not make a whole record of one run
    (a partial run): then nothing is written to the report folder and ``log`` says why."""
    import papermill
    import torch

    dirs = run_dirs(quick, out_dir)
    executed = dirs.scratch / "notebooks"
    executed.mkdir(parents=True, exist_ok=True)
    selected = select(only)
    if not only:  # a whole run starts from no fragments, so it never merges an earlier run's
        for stale in dirs.fragments.glob("*.json"):
            stale.unlink()
    params = {"quick": quick, "seed": seed, "data_root": None if data_root is None else str(Path(data_root).resolve()),
              "out_dir": None if out_dir is None else str(Path(out_dir).resolve())}
    seconds = {}
    t_all = time.perf_counter()
    for i, nb in enumerate(selected, 1):
        print(f"[{i}/{len(selected)}] {nb.name} ({'quick' if quick else 'full'} mode)", file=log, flush=True)
        t0 = time.perf_counter()
        papermill.execute_notebook(
            str(nb), str(executed / nb.name), parameters=params, kernel_name=kernel_name,
            cwd=str(paths.NOTEBOOKS_DIR), progress_bar=True, execution_timeout=timeout, log_output=False,
        )
        seconds[nb.stem] = time.perf_counter() - t0
        print(f"      done in {seconds[nb.stem]:.0f} s", file=log, flush=True)
    try:
        identity, sections = results.merge(results.load_fragments(dirs.fragments))
    except results.MixedRunError as exc:
        print(f"{dirs.paper} left as it was: {exc}", file=log, flush=True)
        return None
    record = results.from_dict({**sections, "run": {
        "identity": identity, "notebook_seconds": seconds, "wall_seconds": time.perf_counter() - t_all,
        "versions": machine.versions(), "machine": machine.describe(), "torch_threads": torch.get_num_threads(),
        "notebooks_run": [nb.stem for nb in selected], "peak_rss_mb": machine.peak_rss_mb(),
    }})
    record = replace(record, verdicts=claims.verdicts(record))
    write(record, dirs)
    print(f"wrote {dirs.paper / 'results.json'}, {dirs.paper / 'REPORT.md'} and figures in {dirs.figures} "
          f"({record.run.wall_seconds:.0f} s)", file=log, flush=True)
    return record


def write(record: results.Results, dirs) -> None:
    """results.json and REPORT.md of ``record`` in ``dirs.paper``."""
    results.write_json(results.to_dict(record), dirs.paper / "results.json")
    (dirs.paper / "REPORT.md").write_text(report.render(record, report_dir=dirs.paper, figures_dir=dirs.figures))


def compare_verdicts(before: results.Results, after: results.Results) -> list[str]:
    """Lines describing every verdict that changed, appeared or disappeared between two records."""
    a = {v.key: v.verdict for v in before.verdicts}
    b = {v.key: v.verdict for v in after.verdicts}
    return [f"{k}: {a.get(k, 'missing')} -> {b.get(k, 'missing')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _is_checked(cell) -> bool:
    return cell.cell_type == "code" and (
        cell.source.lstrip().startswith(CHECK_MARK) or "nbval-check-output" in cell.metadata.get("tags", [])
    )


def refresh_checked_outputs(executed_dir: str | Path) -> list[Path]:
    """Copy the outputs of the checked cells from executed notebooks into ``notebooks/``.

    Every other output is removed, so the committed notebooks diff well and nbval compares
    exactly the checked cells. Run after a quick run: ``resdyn reproduce --quick --update-notebooks``.
    """
    import nbformat

    written = []
    for src in notebooks():
        executed = nbformat.read(Path(executed_dir) / src.name, as_version=4)
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
