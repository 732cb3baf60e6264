"""The run's switches and scratch folder: quick mode, output folders (paths to data and cache: :mod:`resdyn.core.paths`).

Environment variables (all optional):

``RESDYN_OUT``    scratch outputs (executed notebooks, fragments, quick runs); default ``<repo>/build``.
``RESDYN_QUICK``  ``1``: notebooks run in quick mode (digits, seconds) whatever their ``quick`` parameter.
"""
from __future__ import annotations

import os
from pathlib import Path

from resdyn.core.paths import REPO_ROOT, env_path


def build_dir() -> Path:
    """Scratch outputs: ``$RESDYN_OUT`` or ``<repo>/build`` (ignored by git)."""
    return env_path("RESDYN_OUT", REPO_ROOT / "build")


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
