"""Run every numbered notebook headless with papermill, then merge results and write the report.

    resdyn reproduce            # full run: MNIST, writes figures/, paper/results.json, paper/REPORT.md
    resdyn reproduce --quick    # digits, minutes: writes build/quick/...

Executed notebooks go to the run's scratch folder (``build/full/notebooks`` or
``build/quick/notebooks``); the notebooks in ``notebooks/`` are never overwritten.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from . import claims, paths, report
from .experiment import run_dirs
from .results import load_fragments, write_json

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "openTSNE", "matplotlib", "seaborn",
            "papermill", "nbval", "resdyn")


def notebooks() -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def versions() -> dict:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()}"


def _peak_rss_mb() -> float:
    """Peak resident memory of this process or of the largest notebook kernel, whichever is larger,
    in MB (10^6 bytes, as bench/bench.py reports it)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def verdict_map(results: dict) -> dict:
    return {v.key: v.verdict for v in claims.all_verdicts(results)}


def run(*, quick: bool = False, seed: int = 0, data_root: str | None = None, out_dir: str | None = None,
        only: list[str] | None = None, kernel_name: str = "python3", timeout: int = 3600,
        log=sys.stderr) -> dict:
    """Execute the notebooks (all, or those whose name starts with one of ``only``) and write
    results.json and the report. Returns the merged results."""
    import papermill
    import torch

    dirs = run_dirs(quick, out_dir)
    executed = dirs.scratch / "notebooks"
    executed.mkdir(parents=True, exist_ok=True)
    selected = [nb for nb in notebooks() if not only or any(nb.name.startswith(o) for o in only)]
    if not selected:
        raise ValueError(f"only={only!r} matches no notebook; choose from {[nb.name[:2] for nb in notebooks()]}.")
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
    results = load_fragments(dirs.fragments)
    results["run"] = {
        "quick": quick, "seed": seed, "dataset": "digits" if quick else "mnist",
        "notebook_seconds": seconds, "wall_seconds": time.perf_counter() - t_all,
        "versions": versions(), "machine": machine(), "torch_threads": torch.get_num_threads(),
        "notebooks_run": [nb.stem for nb in selected],
        "peak_rss_mb": _peak_rss_mb(),
    }
    results["verdicts"] = [v.to_dict() for v in claims.all_verdicts(results)]
    write_json(results, dirs.paper / "results.json")
    (dirs.paper / "REPORT.md").write_text(report.render(results, report_dir=dirs.paper, figures_dir=dirs.figures))
    print(f"wrote {dirs.paper / 'results.json'}, {dirs.paper / 'REPORT.md'} and figures in {dirs.figures} "
          f"({results['run']['wall_seconds']:.0f} s)", file=log, flush=True)
    return results


def compare_verdicts(before: dict, after: dict) -> list[str]:
    """Lines describing every verdict that changed, appeared or disappeared between two result sets."""
    a, b = verdict_map(before), verdict_map(after)
    return [f"{k}: {a.get(k, 'missing')} -> {b.get(k, 'missing')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def load_results(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


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
