"""The notebooks' checked cells (``# NBVAL_CHECK_OUTPUT``, what ``nbval --nbval-lax`` compares) and
nbval's comparison of them between two executed copies of a notebook, without executing either.

CI runs the paper target (``make reproduce``), which executes notebooks 00-04 and writes them to
``paper/notebooks/``; :func:`compare_checked` then holds them against the committed copies as nbval
would (the same sanitizers, ``nbval-sanitize.cfg``; streams coalesced; images not compared), instead
of executing the committed copies a second time.
"""
from __future__ import annotations

import re
from pathlib import Path

from resdyn.core import paths

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
#: nbval's sanitizers, applied to both sides.
SANITIZE_FILE = paths.REPO_ROOT / "nbval-sanitize.cfg"
#: Output fields nbval does not compare (its ``skip_compare`` without nbdime).
_SKIP = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
         "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}


def is_checked(cell) -> bool:
    """Whether nbval --nbval-lax compares ``cell``'s outputs: a code cell that starts with
    :data:`CHECK_MARK` or carries the ``nbval-check-output`` tag."""
    return cell.cell_type == "code" and (
        cell.source.lstrip().startswith(CHECK_MARK) or "nbval-check-output" in cell.metadata.get("tags", [])
    )


def _flatten(outputs: list, patterns: list[tuple[str, str]]) -> dict[str, list[str]]:
    """nbval's view of a cell's outputs: streams coalesced by nbval's own ``coalesce_streams``
    (carriage returns resolved as nbval resolves them), each MIME type of the data outputs,
    every field sanitized; keyed by stream name or MIME type. ``outputs`` is not modified."""
    import copy

    from nbval.plugin import coalesce_streams

    def sanitize(text) -> str:
        text = "".join(text) if isinstance(text, list) else str(text)
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    out: dict[str, list[str]] = {}
    for o in coalesce_streams(copy.deepcopy(list(outputs))):
        if o.get("output_type") == "stream":
            out[o["name"]] = [sanitize(o.get("text", ""))]
            continue
        for key, value in o.items():
            if key == "data":
                for mime, data in value.items():
                    if mime not in _SKIP:
                        out.setdefault(mime, []).append(sanitize(data))
            elif key not in _SKIP:
                out.setdefault(key, []).append(sanitize(value))
    return out


def compare_checked(expected_dir: str | Path, actual_dir: str | Path, *, pattern: str = "0[0-4]_*.ipynb",
                    sanitize_file: str | Path = SANITIZE_FILE) -> list[str]:
    """The checked cells of each notebook in ``expected_dir`` matching ``pattern`` against the same
    notebook in ``actual_dir`` (cells matched by id). Returns one line per difference (empty: they
    agree); a notebook or a checked cell missing from ``actual_dir`` is a difference, and so is a
    ``pattern`` that matches nothing."""
    import nbformat
    from nbval.plugin import get_sanitize_patterns

    expected_dir, actual_dir = Path(expected_dir), Path(actual_dir)
    patterns = get_sanitize_patterns(Path(sanitize_file).read_text())
    expected = sorted(expected_dir.glob(pattern))
    if not expected:
        return [f"no notebook matches {pattern!r} in {expected_dir}"]
    problems = []
    for path in expected:
        twin = actual_dir / path.name
        if not twin.exists():
            problems.append(f"{path.name}: missing from {actual_dir}")
            continue
        cells = {c.get("id"): c for c in nbformat.read(twin, as_version=4).cells}
        for cell in nbformat.read(path, as_version=4).cells:
            if not is_checked(cell):
                continue
            other = cells.get(cell.get("id"))
            if other is None:
                problems.append(f"{path.name}: checked cell {cell.get('id')!r} missing from {twin}")
                continue
            want, got = _flatten(cell.outputs, patterns), _flatten(other.outputs, patterns)
            for key in sorted(set(want) | set(got)):
                if want.get(key) != got.get(key):
                    problems.append(f"{path.name}: checked cell {cell.get('id')!r}, {key}: expected "
                                    f"{want.get(key)!r}, got {got.get(key)!r}")
    return problems
