"""MNIST-1D (Greydanus and Kobak, ICML 2024), generated offline, as a :class:`resdyn.core.data.Dataset`.

1-D signals of length 40 built from ten digit templates with padding, shear, shifts, noise and
scaling, designed so that model families separate (their baselines: logistic regression about
32 %, MLP about 68 %, CNN about 94 % test accuracy). The arrays come from the ``mnist1d`` package's
``make_dataset`` (deterministic for a fixed seed, seconds); its ``get_dataset`` downloads a pickle
from the web and is never called here (a test fails if it is).

The generator's arguments are fixed in one place, :class:`Mnist1dSpec` (the package's defaults
except the number of samples and the seed). A generated set is cached as
``<data root>/mnist1d/mnist1d-<hash>.npz``, with its arguments and a checksum of its arrays stored
in the file and checked when it is read (a file that fails is set aside, see :func:`arrays`).
``make_dataset`` splits 80 / 20 into training and test; :func:`load_mnist1d` holds out
``val_size`` of the training part for validation (drawn once with :data:`resdyn.core.data.SPLIT_SEED`).

>>> data = load_mnist1d(Mnist1dSpec(num_samples=10000))   # 7,000 train / 1,000 val / 2,000 test
>>> data.train.x.shape                                    # (7000, 40) float32; y (7000,) int64
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from resdyn.core import files, paths, store
from resdyn.core.data import SPLIT_SEED, Dataset, Split

#: The ``mnist1d`` package's generator arguments that :class:`Mnist1dSpec` does not set: its
#: defaults (mnist1d 0.0.2.post1, ``get_dataset_args``), written out so that an upgrade that changes
#: them cannot change the data unnoticed.
GENERATOR = {"train_split": 0.8, "template_len": 12, "padding": [36, 60], "scale_coeff": 0.4,
             "max_translation": 48, "corr_noise_scale": 0.25, "iid_noise_scale": 2e-2, "shear_scale": 0.75,
             "shuffle_seq": False, "final_seq_length": 40}


@dataclass(frozen=True)
class Mnist1dSpec:
    """Which MNIST-1D set: ``num_samples`` signals in all (a multiple of 10; 80 % train + validation,
    20 % test), generated with ``seed``, ``val_size`` of the training part held out for validation.
    Small and hashable, so it can be sent to a worker process instead of the data."""

    num_samples: int = 10000
    seed: int = 42
    val_size: int = 1000
    root: str | None = None

    def __post_init__(self):
        n = self.num_samples
        if not isinstance(n, int) or isinstance(n, bool) or n < 100 or n % 10:
            raise ValueError(f"num_samples must be an integer >= 100 and a multiple of 10 (one tenth per class), "
                             f"got {n!r}.")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2 ** 32:
            raise ValueError(f"seed must be an integer in [0, 2**32), got {self.seed!r}.")
        n_train = int(n * GENERATOR["train_split"])
        if not isinstance(self.val_size, int) or isinstance(self.val_size, bool) or not 10 <= self.val_size < n_train - 10:
            raise ValueError(f"val_size must be an integer in [10, {n_train - 10}) for {n} samples "
                             f"({n_train} train + validation), got {self.val_size!r}.")

    def arguments(self) -> dict:
        """The generator's arguments (``make_dataset``'s ``args``)."""
        return {**GENERATOR, "num_samples": self.num_samples, "seed": self.seed}

    def load(self) -> Dataset:
        return load_mnist1d(self)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "root"}


def generate(spec: Mnist1dSpec) -> dict[str, np.ndarray]:
    """The arrays of ``make_dataset`` for ``spec``: x (n_train, 40), y, x_test, y_test. NumPy's and
    Python's global random states (which ``make_dataset`` reseeds) are restored afterwards."""
    from mnist1d.data import make_dataset
    from mnist1d.utils import ObjectView

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(ObjectView(spec.arguments()))
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {"x": d["x"].astype(np.float32), "y": d["y"].astype(np.int64),
            "x_test": d["x_test"].astype(np.float32), "y_test": d["y_test"].astype(np.int64)}


def cache_path(spec: Mnist1dSpec) -> Path:
    """Where the generated arrays of ``spec`` are kept: ``<data root>/mnist1d/mnist1d-<hash>.npz``."""
    digest = hashlib.sha256(json.dumps(spec.arguments(), sort_keys=True).encode()).hexdigest()[:12]
    return paths.data_root(spec.root) / "mnist1d" / f"mnist1d-{digest}.npz"


#: The arrays of a generated set, in the order :func:`checksum` reads them.
ARRAYS = ("x", "y", "x_test", "y_test")


def arrays(spec: Mnist1dSpec) -> dict[str, np.ndarray]:
    """The arrays of ``spec``, from the cache or generated (and cached, atomically).

    A cached file is used only if it holds ``spec``'s arguments and arrays whose shapes, types and
    :func:`checksum` are those stored with them. Any other file there (truncated, not an ``.npz``,
    written for other arguments, other arrays) is set aside as ``<name>.corrupt`` with a
    :class:`resdyn.core.store.CacheWarning` naming it, and the arrays are generated and cached again.
    Where the file's folder is not writable, nothing is written there: the file stays and the
    arrays are generated in memory, with a warning saying so."""
    path = cache_path(spec)
    if path.exists():
        saved, why = _read(path, spec)
        if saved is not None:
            return saved
        data = generate(spec)
        if not os.access(path.parent, os.W_OK):
            warnings.warn(f"resdyn cache: {path} {why}; its folder is not writable, so the file stays and the "
                          f"MNIST-1D arrays are generated in memory on every run (delete the file or make "
                          f"{path.parent} writable).", store.CacheWarning, stacklevel=2)
            return data
        store.discard(path, why, then="The MNIST-1D arrays are generated again.")
    else:
        data = generate(spec)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, arguments=np.array(json.dumps(spec.arguments(), sort_keys=True)),
                     sha256=np.array(checksum(data)), **data)

    files.atomic_write(path, write)
    return data


def checksum(data: dict[str, np.ndarray]) -> str:
    """The SHA-256 of the :data:`ARRAYS` of ``data``: each one's name, type, shape and bytes."""
    h = hashlib.sha256()
    for name in ARRAYS:
        a = np.ascontiguousarray(data[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _read(path: Path, spec: Mnist1dSpec) -> tuple[dict[str, np.ndarray] | None, str]:
    """(the arrays of the cache file ``path``, "") if it holds ``spec``'s set whole, else (None, why not)."""
    n_train = int(spec.num_samples * GENERATOR["train_split"])
    n_test, length = spec.num_samples - n_train, GENERATOR["final_seq_length"]
    want = {"x": ("float32", (n_train, length)), "y": ("int64", (n_train,)),
            "x_test": ("float32", (n_test, length)), "y_test": ("int64", (n_test,))}
    try:
        saved = np.load(path, allow_pickle=False)
        if not isinstance(saved, np.lib.npyio.NpzFile):
            raise ValueError("it holds one array, not the .npz archive of a generated set")
        with saved:
            missing = [k for k in ("arguments", *ARRAYS) if k not in saved.files]
            if missing:
                return None, f"is not an MNIST-1D cache file (it has no {', '.join(missing)})"
            arguments = json.loads(str(saved["arguments"]))
            digest = str(saved["sha256"]) if "sha256" in saved.files else None
            data = {k: saved[k] for k in ARRAYS}
    except Exception as exc:  # truncated or not a zip, a damaged member, unreadable arguments: the file is the problem
        return None, f"could not be read ({store.read_error(exc)})"
    if arguments != spec.arguments():
        return None, f"holds the set of other generator arguments ({arguments} where {spec.arguments()} was asked for)"
    if digest is None:
        return None, "has no checksum of its arrays, so they cannot be checked (written by an older resdyn)"
    got = {k: (str(a.dtype), a.shape) for k, a in data.items()}
    if got != want:
        return None, f"holds arrays of other types or shapes ({got} where {want} was asked for)"
    if checksum(data) != digest:
        return None, "holds other arrays than it was written with (their SHA-256 differs from the one stored with them)"
    return data, ""


def load_mnist1d(spec: Mnist1dSpec = Mnist1dSpec()) -> Dataset:
    """MNIST-1D as a :class:`resdyn.core.data.Dataset` (train, val, test; x (n, 40) float32, as generated:
    the generator centres the whole set and scales it to unit std). ``image_shape`` is (1, 40)."""
    d = arrays(spec)
    x, y = torch.from_numpy(d["x"]), torch.from_numpy(d["y"])
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, train = order[:spec.val_size], order[spec.val_size:]
    return Dataset(name="mnist1d", train=Split(x[train], y[train]), val=Split(x[val], y[val]),
                   test=Split(torch.from_numpy(d["x_test"]), torch.from_numpy(d["y_test"])), n_classes=10,
                   image_shape=(1, d["x"].shape[1]), scaling="generated")



__all__ = ["GENERATOR", "ARRAYS", "Mnist1dSpec", "generate", "cache_path", "arrays", "checksum", "load_mnist1d"]
