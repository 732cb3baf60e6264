"""Results on disk: each notebook writes a JSON fragment; the runner merges them into results.json."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch


def jsonable(obj):
    """Tensors, numpy values, tuples and paths as plain JSON values (NaN/inf as None)."""
    if torch.is_tensor(obj):
        return jsonable(obj.tolist())
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(obj, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(jsonable(obj), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def save_fragment(folder: str | Path, name: str, values: dict) -> Path:
    """Write one notebook's results to ``folder/name.json``."""
    return write_json(values, Path(folder) / f"{name}.json")


def load_fragments(folder: str | Path) -> dict:
    """All fragments in ``folder`` as {name: values}."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(Path(folder).glob("*.json"))}
