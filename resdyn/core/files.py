"""Writing files whole or not at all.

Every file resdyn writes (cache entries, results.json, its schema, REPORT.md, figures, fragments;
text, JSON and figures through :mod:`resdyn.lib.writing`) goes through :func:`atomic_write`: the
content goes to a temporary file unique to the process, in the target's folder, which then
replaces the target in one rename. A failed write (a full disk, a killed
process) leaves the old file whole and removes its temporary file; the error names the file, the
likely cause (a full disk, a file-size limit, a read-only folder) and the fix.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Callable


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
