"""Text, records as JSON, and figures, each written whole or not at all (:func:`resdyn.core.files.atomic_write`)."""
from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import numpy as np
import torch

from resdyn.core.files import atomic_write


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
