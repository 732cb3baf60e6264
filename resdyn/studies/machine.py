"""What this machine is: CPU, cores, package versions, peak memory. Recorded with every run and
benchmark, because bit-identical results hold only on one machine type."""
from __future__ import annotations

import os
import platform
import resource
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "torchvision", "numpy", "scikit-learn", "openTSNE", "matplotlib", "seaborn",
            "papermill", "nbval", "pydantic", "joblib", "resdyn")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is not available)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def describe() -> str:
    """One line: CPU model, core count, OS."""
    return f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()}"


def versions() -> dict:
    """Python's and the main packages' versions (None where not installed)."""
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def package_version(pyproject: Path | None = None) -> str | None:
    """resdyn's version: the installed package's metadata, else (a checkout on ``PYTHONPATH``, not
    installed) the ``version`` of the checkout's pyproject.toml (``pyproject``, default beside the
    package); None where neither says."""
    try:
        return metadata.version("resdyn")
    except metadata.PackageNotFoundError:
        pass
    import tomllib

    pyproject = pyproject or Path(__file__).resolve().parent.parent.parent / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text())["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None
    return project.get("version") if project.get("name") == "resdyn" else None


def peak_rss_mb() -> float:
    """Peak resident memory of this process or of its largest child (e.g. a notebook kernel),
    whichever is larger, in MB (10^6 bytes)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) * 1024 / 1e6  # ru_maxrss is in KiB on Linux
