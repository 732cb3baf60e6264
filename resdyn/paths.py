"""Where resdyn reads and writes, and the quick switch: every path and environment variable is here.

Nothing depends on the current working folder, so a notebook run by JupyterLab (in
``notebooks/``), by papermill (in the caller's folder) or by nbval finds the same files.

Environment variables (all optional):

``RESDYN_DATA``   data root holding ``MNIST/raw/`` (torchvision's layout). Default: ``../shared/data``
                  beside the checkout where it holds the four MNIST files (this workplace), else
                  ``<repo>/data``.
``RESDYN_CACHE``  trained-model cache; default ``<repo>/.cache``.
``RESDYN_OUT``    scratch outputs (executed notebooks, fragments, quick runs); default ``<repo>/build``.
``RESDYN_QUICK``  ``1``: notebooks run in quick mode (digits, seconds) whatever their ``quick`` parameter.
"""
from __future__ import annotations

import os
from pathlib import Path

#: The repository checkout this package was installed from (editable install).
REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
FIGURES_DIR = REPO_ROOT / "figures"
PAPER_DIR = REPO_ROOT / "paper"
#: The executed full-run notebooks, tracked for readers (written by ``make reproduce``).
EXECUTED_DIR = PAPER_DIR / "notebooks"
#: The shared data folder of this workplace, beside the checkout.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
#: The four MNIST files in torchvision's raw layout (sizes and checksums: ``resdyn.data.MNIST_FILES``).
MNIST_RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def has_mnist(root: str | os.PathLike) -> bool:
    """Whether ``root/MNIST/raw`` holds all four MNIST files (an empty folder left by a failed
    download does not count)."""
    raw = Path(root) / "MNIST" / "raw"
    return all((raw / name).is_file() for name in MNIST_RAW_FILES)


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$RESDYN_DATA``, else ``../shared/data`` where it
    holds the four MNIST files, else ``<repo>/data``."""
    if root is not None:
        return Path(root).expanduser().resolve()
    if os.environ.get("RESDYN_DATA"):
        return _env_path("RESDYN_DATA", REPO_ROOT / "data")
    if has_mnist(SHARED_DATA):
        return SHARED_DATA.resolve()
    return REPO_ROOT / "data"


def cache_dir() -> Path:
    """The trained-model cache: ``$RESDYN_CACHE`` or ``<repo>/.cache`` (ignored by git)."""
    return _env_path("RESDYN_CACHE", REPO_ROOT / ".cache")


def build_dir() -> Path:
    """Scratch outputs: ``$RESDYN_OUT`` or ``<repo>/build`` (ignored by git)."""
    return _env_path("RESDYN_OUT", REPO_ROOT / "build")


#: The spellings of ``quick`` besides a bool, lower-cased: papermill passes ``-p quick false`` as the
#: string "false" (only "True" and "False" become bools) and ``-p quick 1`` as the integer 1.
QUICK_VALUES = {"true": True, "1": True, "false": False, "0": False}


def check_quick(quick) -> bool:
    """``quick`` as a bool: a bool, the integer 0 or 1, or one of the strings of :data:`QUICK_VALUES` in
    any case; anything else is a ValueError that names the values allowed (``bool("false")`` would be
    True and run quick mode unasked)."""
    if isinstance(quick, bool):
        return quick
    if isinstance(quick, int) and quick in (0, 1):
        return bool(quick)
    if isinstance(quick, str) and quick.lower() in QUICK_VALUES:
        return QUICK_VALUES[quick.lower()]
    raise ValueError(f'quick must be True or False (or the strings "true", "false", "1", "0" in any case), '
                     f"got {quick!r}; pass for example -p quick True.")


def check_folder(value, name: str) -> Path | None:
    """``value`` as a resolved Path, or None where it is None (the default folder); a ValueError naming
    ``name`` where it is not a non-empty string or path, or names an existing file instead of a folder."""
    if value is None:
        return None
    if not (isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip())):
        raise ValueError(f"{name} must be a folder (a non-empty string or path) or None for the default, "
                         f"got {value!r}.")
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a file, not a folder; pass a folder, or None for the default.")
    return path


def quick_mode(quick: bool = False) -> bool:
    """The quick switch: ``quick`` (checked by :func:`check_quick`), or ``RESDYN_QUICK=1`` in the
    environment (how nbval, which cannot pass papermill parameters, runs the notebooks in quick mode)."""
    quick = check_quick(quick)
    value = os.environ.get("RESDYN_QUICK", "")
    if value not in ("", "0", "1"):
        raise ValueError(f'RESDYN_QUICK must be "0" or "1" (or unset), got {value!r}.')
    return quick or value == "1"
