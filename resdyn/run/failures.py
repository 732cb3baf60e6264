"""What a failure tells the user, and what a run checks before it deletes or makes anything.

Every failure of the command line ends in one line, ``resdyn <command>: error: ...``, that names the
file or the input, the likely cause where it is known and the fix (:func:`explain`); its traceback
only with ``resdyn --debug`` or ``RESDYN_DEBUG=1``. Exit status 2: bad input, refused before anything
was deleted or made; 1: a run that failed. :func:`check_run` is the check of a run's inputs and of
the machine (environment variables, kernel, data, output folders, file-size limit).
"""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

from resdyn.core import files, paths
from resdyn.studies import switches


class RunError(RuntimeError):
    """A run that cannot do what it was asked: another run holds the folder, a notebook failed, or a
    whole run's fragments do not make its record."""


#: The file-size limit (``ulimit -f``) a run needs at least: its largest files, a full run's
#: checkpoints with the optimizer's state (about 110 MB), stay well below it.
LEAST_FILE_SIZE = 256 << 20


def debug() -> bool:
    """Whether ``$RESDYN_DEBUG`` asks for tracebacks ("1"); a value other than "", "0" or "1" raises ``ValueError``."""
    value = os.environ.get("RESDYN_DEBUG", "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f'RESDYN_DEBUG must be "0" or "1" (or unset), got {value!r}. Fix: RESDYN_DEBUG=1 shows '
                         "tracebacks, unset it for one line per failure.")
    return value == "1"


def explain(exc: Exception) -> tuple[str, int]:
    """The one line a user sees for ``exc``, and the exit status: 2 for bad input (``ValueError``,
    :class:`resdyn.core.data.DataError`, a file that does not exist), 1 for everything else."""
    from resdyn.core.data import DataError

    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.filename is None and "Fix:" in (exc.strerror or ""):  # worded by resdyn (files.atomic_write)
            return exc.strerror, 1
        what = exc.filename if exc.filename is not None else "a file (the system did not say which)"
        return (f"{what}: {files.cause(exc.errno, exc)}. Fix: {files.fix(exc.errno)}, then run again",
                2 if isinstance(exc, FileNotFoundError) else 1)
    text = " ".join(str(exc).split())
    if isinstance(exc, (ValueError, DataError)):
        return text, 2
    if isinstance(exc, RunError):
        return text, 1
    return (f"{type(exc).__name__}: {text or 'no message'} (an unexpected failure). Fix: run again with resdyn --debug "
            "(or RESDYN_DEBUG=1) for the traceback, and report it", 1)


def notebook_failed(name: str, exc: Exception, failed: Path | None, kernel_log: Path, status: int | None,
                    timeout: int | None) -> str:
    """The sentence of notebook ``name`` that did not run to its end: the cell that raised, a cell
    past the per-cell limit ``timeout``, a kernel that died (named by the signal or exit code
    ``status`` that ended it: out of memory only for SIGKILL), or a file papermill could not read or
    write; and where its partial output is (``failed``; None: none was kept)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    kept = f"its partial output is {failed}" if failed else "no partial notebook was kept"
    if isinstance(exc, DeadKernelError):
        why, fix = _kernel_death(status)
        return f"{name}: the kernel died ({why}); {kept}, the kernel's own output {kernel_log}. Fix: {fix}."
    if isinstance(exc, PapermillExecutionError):
        fix = "" if "Fix:" in str(exc.evalue) else " Fix: read the traceback there, remove the cause, then run again."
        return f"{name}: cell [{exc.exec_count}] raised {exc.ename}: {' '.join(str(exc.evalue).split())}; {kept}.{fix}"
    if isinstance(exc, CellTimeoutError):
        return (f"{name}: a cell ran past the limit of {timeout} s per cell; {kept}. Fix: find why it hung, or "
                "give it more time with --cell-timeout SECONDS (0: no limit).")
    if isinstance(exc, OSError) and exc.errno is not None:
        what = exc.filename or f"its executed copy {kernel_log.parent / name}"
        return (f"{name}: papermill could not read or write {what}: {files.cause(exc.errno, exc)}; {kept}. "
                f"Fix: {files.fix(exc.errno)}, then run again.")
    return (f"{name}: {type(exc).__name__}: {' '.join(str(exc).split()) or 'no message'}; {kept}. Fix: run again "
            "with resdyn --debug (or RESDYN_DEBUG=1) for the traceback.")


def _kernel_death(status: int | None) -> tuple[str, str]:
    """(what ended a kernel with exit status ``status``, the fix)."""
    if status is None:
        return "what ended it is unknown", "read the kernel's own output, then run again"
    if status >= 0:
        return f"it exited with code {status}", "read the kernel's own output, then run again"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    if -status == signal.SIGKILL:
        return (f"killed by {name}, most likely by the system's out-of-memory killer",
                "close other jobs, or run with fewer workers (RESDYN_WORKERS=1)")
    return f"killed by {name}", "find what sent the signal (another process, a job scheduler's limit), then run again"


def check_run(quick: bool, data_root, kernel_name: str, dirs) -> None:
    """Raise ``ValueError`` naming the setting or the folder, and the fix, where a run could not do its
    work: ``$RESDYN_QUICK``, ``$RESDYN_WORKERS``, the Jupyter kernel, write access to the output folders
    ``dirs`` and the model cache, the file-size limit, and (full mode) MNIST under the data root. A run
    calls it before it deletes or makes anything."""
    from resdyn.core.data import check_mnist
    from resdyn.lib.parallel import plan

    quick = switches.quick_mode(quick)
    plan(1)  # $RESDYN_WORKERS
    check_kernel(kernel_name)
    for folder, what in ((dirs.paper, "record folder"), (dirs.figures, "figures folder"),
                         (dirs.scratch, "scratch folder"), (paths.cache_dir(), "model cache ($RESDYN_CACHE)")):
        check_writable(folder, what)
    check_file_size_limit()
    if not quick:
        check_mnist(data_root)


def check_kernel(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is an installed Jupyter kernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    specs = KernelSpecManager()
    try:
        specs.get_kernel_spec(name)
    except NoSuchKernel:
        raise ValueError(f"--kernel {name!r} is no installed Jupyter kernel (installed: "
                         f"{', '.join(sorted(specs.find_kernel_specs()))}). Fix: pass one of them, or install it "
                         f"(python -m ipykernel install --user --name {name}).") from None


def check_writable(folder: str | os.PathLike, what: str) -> None:
    """Raise ``ValueError`` naming ``folder`` where it, or the folder it would be made in, cannot be written."""
    folder = existing = Path(folder)
    while not existing.exists():
        existing = existing.parent
    where = "" if existing == folder else f" ({existing}, where it would be made)"
    if not existing.is_dir():
        raise ValueError(f"the {what} {folder} cannot be made: {existing} is a file; nothing was run or deleted. "
                         "Fix: remove or rename that file, or write elsewhere (--out).")
    if not os.access(existing, os.W_OK | os.X_OK):
        code = errno.EROFS if os.statvfs(existing).f_flag & os.ST_RDONLY else errno.EACCES
        raise ValueError(f"the {what} {folder} is not writable{where}: {files.cause(code, None)}; nothing was run "
                         f"or deleted. Fix: {files.fix(code)}.")


def check_file_size_limit(least: int = LEAST_FILE_SIZE) -> None:
    """Raise ``ValueError`` where the process's file-size limit (``ulimit -f``) is below ``least`` bytes."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY and soft < least:
        raise ValueError(f"the file-size limit (ulimit -f) is {soft} bytes, below the {least >> 20} MiB a run's files "
                         "(trained nets, executed notebooks) may need; nothing was run or deleted. Fix: raise it "
                         "(ulimit -f unlimited), then run again.")
