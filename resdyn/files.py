"""Writing files whole or not at all, and records as JSON.

Every file resdyn writes (results.json, its schema, REPORT.md, figures, fragments) goes through
:func:`atomic_write`: the content goes to a temporary file unique to the process, in the target's
folder, which then replaces the target in one rename. A failed write (a full disk, a killed
process) leaves the old file whole and removes its temporary file; the error names the file, the
likely cause (a full disk, a file-size limit, a read-only folder) and the fix.
"""
from __future__ import annotations

import dataclasses
import errno
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

    Raises ``OSError`` naming ``path``, the likely cause and the fix if the folder, the temporary
    file, the write or the rename fails (a writer's ``RuntimeError`` too: torch.save reports a failed
    write as one); ``path`` is then unchanged and no temporary file is left."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; the final file gets the usual mode
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, RuntimeError)):
            code = exc.errno if isinstance(exc, OSError) and exc.errno else guess_errno(path.parent)
            raise OSError(code, f"could not write {path}: {cause(code, exc)}; the previous file, if any, is "
                                f"unchanged. Fix: {fix(code)}, then run again") from exc
        raise
    return path


#: What a failed file operation's errno most likely means, and its fix.
CAUSES = {
    errno.ENOSPC: ("the disk is full (ENOSPC)", "free disk space"),
    errno.EDQUOT: ("the disk quota is used up (EDQUOT)", "free space or raise the quota"),
    errno.EFBIG: ("the file would pass the process's file-size limit (EFBIG, see ulimit -f)",
                  "raise the limit (ulimit -f unlimited)"),
    errno.EROFS: ("the file system is read-only (EROFS)", "write elsewhere (--out) or make the file system writable"),
    errno.EACCES: ("permission denied (EACCES)", "fix the folder's permissions or write elsewhere (--out)"),
    errno.EPERM: ("operation not permitted (EPERM)", "fix the folder's permissions or write elsewhere (--out)"),
    errno.ENOENT: ("no such file or folder (ENOENT)", "check the path"),
    errno.ENOMEM: ("out of memory (ENOMEM)", "close other jobs"),
}


def cause(code: int | None, exc: BaseException) -> str:
    """The likely cause of a failed file operation from its errno ``code``, else ``exc``'s own words."""
    if code in CAUSES:
        return CAUSES[code][0]
    words = getattr(exc, "strerror", None) or str(exc).strip()
    return words.splitlines()[0] if words else type(exc).__name__


def fix(code: int | None) -> str:
    """The fix of a failed file operation with errno ``code``."""
    return CAUSES[code][1] if code in CAUSES else "check the folder and the disk"


def guess_errno(folder: Path) -> int:
    """The errno of a failed write that came without one (torch.save's ``RuntimeError``): EFBIG under
    a file-size limit, ENOSPC where ``folder``'s disk has less than 64 MiB free, else EIO."""
    import resource
    import shutil

    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
        return errno.EFBIG
    try:
        if shutil.disk_usage(folder).free < 64 << 20:
            return errno.ENOSPC
    except OSError:
        pass
    return errno.EIO


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
