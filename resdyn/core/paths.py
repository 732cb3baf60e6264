"""Where resdyn reads its data and keeps its trained nets; the run's outputs and switches are in :mod:`resdyn.studies.switches`.

Nothing depends on the current working folder, so a notebook run by JupyterLab (in
``notebooks/``), by papermill (in the caller's folder) or by nbval finds the same files.

Environment variables (all optional):

``RESDYN_DATA``   data root holding ``MNIST/raw/`` (torchvision's layout). Default: ``../shared/data``
                  beside the checkout where it holds the four MNIST files (this workplace), else
                  ``<repo>/data``.
``RESDYN_CACHE``  trained-model cache; default ``<repo>/.cache``.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The repository checkout this package was installed from (editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
FIGURES_DIR = REPO_ROOT / "figures"
PAPER_DIR = REPO_ROOT / "paper"
#: The executed full-run notebooks, tracked for readers (written by ``make reproduce``).
EXECUTED_DIR = PAPER_DIR / "notebooks"
#: The shared data folder of this workplace, beside the checkout.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
#: The four MNIST files in torchvision's raw layout (sizes and checksums: ``resdyn.core.data.MNIST_FILES``).
MNIST_RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                   "t10k-labels-idx1-ubyte")


def has_mnist(root: str | os.PathLike) -> bool:
    """Whether ``root/MNIST/raw`` holds all four MNIST files (an empty folder left by a failed
    download does not count)."""
    raw = Path(root) / "MNIST" / "raw"
    return all((raw / name).is_file() for name in MNIST_RAW_FILES)


def env_path(name: str, default: Path) -> Path:
    """The folder the environment variable ``name`` names (resolved), or ``default`` where it is unset or empty."""
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RESDYN_DATA``, else ``../shared/data`` where it
    holds the four MNIST files, else ``<repo>/data``."""
    if root is not None:
        return Path(root).expanduser().resolve()
    if os.environ.get("RESDYN_DATA"):
        return env_path("RESDYN_DATA", REPO_ROOT / "data")
    if has_mnist(SHARED_DATA):
        return SHARED_DATA.resolve()
    return REPO_ROOT / "data"


def cache_dir() -> Path:
    """The trained-model cache: ``$RESDYN_CACHE`` or ``<repo>/.cache`` (ignored by git)."""
    return env_path("RESDYN_CACHE", REPO_ROOT / ".cache")
