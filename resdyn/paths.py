"""Where resdyn reads and writes: every path comes from here or from an argument.

Nothing depends on the current working folder, so a notebook run by JupyterLab (in
``notebooks/``), by papermill (in the caller's folder) or by nbval finds the same files.

Environment variables (all optional):

``RESDYN_DATA``   data root holding ``MNIST/raw/`` (torchvision's layout); default ``<repo>/data``.
``RESDYN_CACHE``  trained-model cache; default ``<repo>/.cache``.
``RESDYN_OUT``    where quick runs write scratch outputs; default ``<repo>/build``.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The repository checkout this package was installed from (editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
FIGURES_DIR = REPO_ROOT / "figures"
PAPER_DIR = REPO_ROOT / "paper"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RESDYN_DATA``, else ``<repo>/data``."""
    if root is not None:
        return Path(root).expanduser().resolve()
    return _env_path("RESDYN_DATA", REPO_ROOT / "data")


def cache_dir() -> Path:
    """The trained-model cache: ``$RESDYN_CACHE`` or ``<repo>/.cache`` (ignored by git)."""
    return _env_path("RESDYN_CACHE", REPO_ROOT / ".cache")


def output_dir(quick: bool) -> Path:
    """Where a run writes its figures, results and executed notebooks.

    The full run writes the committed artefacts (``figures/``, ``paper/``); the quick run writes
    to ``$RESDYN_OUT/quick`` (default ``<repo>/build/quick``) so it never overwrites them.
    """
    if quick:
        return _env_path("RESDYN_OUT", REPO_ROOT / "build") / "quick"
    return REPO_ROOT
