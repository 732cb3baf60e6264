"""The executed notebooks: cleaned for readers, their checked outputs for nbval, and the comparisons
CI makes between a run and the committed record (verdicts, numbers, figures).
"""
from __future__ import annotations

from pathlib import Path

from resdyn.core import paths
from resdyn.run import results
from resdyn.studies import sections
from resdyn.run.checked import is_checked
from resdyn.core.files import atomic_write


def notebooks(target: str | None = None) -> list[Path]:
    """The registered notebooks (of ``target``), in order."""
    entries = sections.SECTIONS if target is None else sections.of_target(target)
    return [paths.NOTEBOOKS_DIR / f"{s.notebook}.ipynb" for s in entries]


def compare_verdicts(before: results.Results, after: results.Results) -> list[str]:
    """Lines describing every verdict that changed, appeared or disappeared between two records."""
    a = {v.key: v.verdict for v in before.verdicts}
    b = {v.key: v.verdict for v in after.verdicts}
    return [f"{k}: {a.get(k, 'missing')} -> {b.get(k, 'missing')}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def compare_numbers(before: results.Results, after: results.Results, target: str, *, exact: bool = False):
    """(the :class:`resdyn.run.compare.Comparison` of ``target``'s sections in two records, a line saying how it went);
    None for the comparison where the two runs trained in different precisions: bf16 and fp32 training give
    other nets, beyond any tolerance measured between processors (the verdicts are still compared)."""
    from resdyn.run import compare

    p0, p1 = (r.runs[target].identity.get("precision") if target in r.runs else None for r in (before, after))
    if p0 != p1:
        return None, (f"Numbers not compared: the {target} target of the earlier record was trained in {p0}, this run "
                      f"in {p1}; the tolerances hold between processors in one precision. Verdicts are still compared.")
    old, new = results.to_dict(before), results.to_dict(after)
    names = [s.name for s in sections.of_target(target) if s.name in old or s.name in new]
    result = compare.compare(old, new, sections=names, exact=exact)
    return result, f"Numbers of the {target} target's sections: {result.summary()}."


# ----------------------------------------------------------------------------------------------
# figures: the committed ones must stay true to the code

def compare_figures(expected_dir: str | Path, actual_dir: str | Path, tolerance: dict | None = None) -> list[str]:
    """One line per figure of ``tolerance`` (default: the paper target's, :func:`resdyn.studies.sections.figure_tolerances`) whose PNG in
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
        if cell.cell_type == "code":  # progress widgets (tqdm.auto with ipywidgets) go with stderr
            cell.outputs = _merge_streams([o for o in cell.outputs
                                           if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                                           and _WIDGET not in o.get("data", {})])
            for o in cell.outputs:
                if "text/plain" in o.get("data", {}):
                    o["data"]["text/plain"] = re.sub(r" at 0x[0-9a-f]+", "", o["data"]["text/plain"])
    atomic_write(dst, lambda tmp: nbformat.write(nb, str(tmp)))
    return Path(dst)


_WIDGET = "application/vnd.jupyter.widget-view+json"


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


#: The forms of a checked cell's display that ``notebooks/`` keeps: its text and its Markdown (a claims table).
_TEXT_FORMS = ("text/plain", "text/markdown")


def _checked_output(o) -> bool:
    """Whether output ``o`` of a checked cell is kept in ``notebooks/``: what it prints to stdout, and what it
    displays as text or Markdown (not figures, not progress widgets)."""
    if o.get("output_type") == "stream":
        return o.get("name") == "stdout"
    return any(form in o.get("data", {}) for form in _TEXT_FORMS[1:]) or set(o.get("data", {})) == {"text/plain"}


def _text_only(o):
    """Output ``o`` with only its text and Markdown forms."""
    if "data" in o:
        o["data"] = {k: v for k, v in o["data"].items() if k in _TEXT_FORMS}
        o["metadata"] = {}
    return o


def refresh_checked_outputs(executed_dir: str | Path, target: str | None = None) -> list[Path]:
    """Copy the outputs of the checked cells from executed notebooks into ``notebooks/``: what they print and
    what they display as text or Markdown (:func:`_checked_output`).

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
                cell.outputs = [_text_only(o) for o in done.outputs if _checked_output(o)]
                cell.execution_count = done.execution_count
            else:
                cell.outputs, cell.execution_count = [], None
        nb.metadata.pop("papermill", None)
        atomic_write(src, lambda tmp, nb=nb: nbformat.write(nb, str(tmp)))
        written.append(src)
    return written
