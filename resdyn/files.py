"""Writing files whole or not at all, and records as JSON.

Every file resdyn writes (results.json, its schema, REPORT.md, figures, fragments) goes through
:func:`atomic_write`: the content goes to a temporary file unique to the process, in the target's
folder, which then replaces the target in one rename. A failed write (a full disk, a killed
process) leaves the old file whole and removes its temporary file; the error names the file.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a fresh temporary path beside ``path``, then rename it onto ``path``.

    Raises ``OSError`` naming ``path`` if the write or the rename fails; ``path`` is then unchanged
    and no temporary file is left."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; the final file gets the usual mode
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"could not write {path}: {exc.strerror or exc}; the previous file, if any, "
                          "is unchanged (free disk space or fix the folder's permissions, then run again)") from exc
        raise
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` whole or not at all."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def jsonable(obj):
    """Records, tensors, numpy values, tuples and paths as plain JSON values (NaN/inf as None).
    Dataclass fields with ``metadata={"saved": False}`` are left out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.metadata.get("saved", True)}
    if torch.is_tensor(obj) or isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(obj, path: str | os.PathLike) -> Path:
    """Write ``jsonable(obj)``, keys sorted, indented, whole or not at all."""
    return write_text(json.dumps(jsonable(obj), indent=2, sort_keys=True) + "\n", path)


def read_json(path: str | os.PathLike):
    """The JSON value in ``path``; a damaged file raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc}); restore it (git checkout {path.name}) or "
                         "regenerate it with the run that writes it.") from exc


def save_figure(fig, stem: str | os.PathLike, *, dpi: int = 150) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf with no timestamps or software versions in them, each
    whole or not at all."""
    stem = Path(stem)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    atomic_write(png, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight",
                                              metadata={"Software": None}))
    atomic_write(pdf, lambda tmp: fig.savefig(tmp, format="pdf", bbox_inches="tight",
                                              metadata={"Creator": None, "Producer": None, "CreationDate": None}))
    return [png, pdf]
