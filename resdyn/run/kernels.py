"""The notebooks' kernels, as :mod:`resdyn.run.reproduce` starts them through papermill: over local IPC
sockets, each kernel's own stdout and stderr in a file of its own."""
from __future__ import annotations

import os
import re
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode


def kernel_options(folder: Path, output: Path | None = None) -> dict:
    """papermill's options for a notebook's kernel. It talks to papermill over local IPC sockets in
    ``folder``, not TCP: on TCP every kernel warns that it runs "without encryption", noise on one
    machine, where IPC is the right transport. (Without ``ip`` the sockets land in the working
    folder, notebooks/.) The kernel's connection file goes to ``folder`` too (else a killed run
    leaves it in the system's temporary folder). ``output``: a file for the kernel process's own
    stdout and stderr (:class:`KernelOutputToFile`), else they are this process's."""
    from traitlets.config import Config

    config = {"KernelManager": {"transport": "ipc", "ip": str(Path(folder) / "kernel"),
                                "connection_file": str(Path(folder) / "kernel.json")}}
    if output is None:
        return {"config": Config(config)}
    config["KernelOutputToFile"] = {"output_file": str(output)}
    return {"config": Config(config), "kernel_manager_class": KernelOutputToFile}


class KernelOutputToFile(AsyncKernelManager):
    """A kernel whose process writes its own stdout and stderr to ``output_file``. ipykernel copies
    everything written to the kernel's file descriptors (the training workers' epoch lines) both to
    the notebook, which papermill logs, and to the kernel's stdout: on the run's terminal every line
    came twice. The file keeps what only the kernel's stdout shows (a crash's last words)."""

    output_file = Unicode("", help="where the kernel process's stdout and stderr go").tag(config=True)

    async def _async_launch_kernel(self, kernel_cmd, **kw):  # jupyter_client's documented override point
        if not self.output_file:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        with open(self.output_file, "ab") as out:  # the kernel process keeps its own copy of the descriptor
            return await super()._async_launch_kernel(kernel_cmd, **{**kw, "stdout": out, "stderr": out})

    async def _async_is_alive(self) -> bool:  # what nbclient asks before it reports a dead kernel
        alive = await super()._async_is_alive()
        process = getattr(self.provisioner, "process", None)
        if not alive and self.output_file and getattr(process, "returncode", None) is not None:
            _EXITS[self.output_file] = process.returncode
        return alive


#: The exit status of each kernel found dead, by its output file (see :func:`exit_status`).
_EXITS: dict[str, int] = {}


def exit_status(output: Path) -> int | None:
    """The exit status of the kernel writing to ``output`` when it was last found dead (negative: the
    signal that killed it), or None where it is unknown; read once. How a run names what killed a kernel."""
    return _EXITS.pop(str(output), None)


#: The start of the name of a run's folder for its kernels' sockets, followed by the run's process id.
KERNELS_PREFIX = "resdyn-kernels-"


def remove_stale_folders() -> list[Path]:
    """Remove the kernels' socket folders (in the temporary folder) of runs whose process is gone."""
    import shutil
    import tempfile

    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{KERNELS_PREFIX}*"):
        owner = re.fullmatch(rf"{KERNELS_PREFIX}(\d+)-\w+", folder.name)
        if owner and folder.is_dir() and not _alive(int(owner[1])):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one of another user's included)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
