"""The notebooks' kernels, as :mod:`resdyn.reproduce` starts them through papermill: over local IPC
sockets, each kernel's own stdout and stderr in a file of its own."""
from __future__ import annotations

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
