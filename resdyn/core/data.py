"""Data: MNIST (through torchvision) and a tiny embedded dataset for fast tests.

Every dataset is returned as plain tensors, ``x`` of shape (n, features) float32 and ``y`` of
shape (n,) int64: the whole of MNIST fits in memory (188 MB) and slicing one tensor is much
faster than a per-sample DataLoader.

>>> data = load_dataset("digits")            # 8x8 digits from scikit-learn, no download
>>> data = load_dataset("mnist", root="../shared/data")
>>> probe = balanced_subset(data.test, 200, seed=0)   # 200 test samples of each class
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from resdyn.core import paths

DATASETS = ("mnist", "digits")
SCALINGS = ("unit", "centered", "standard")
#: Samples of the training set held out for validation (model selection, per-epoch monitoring):
#: MNIST's customary 50,000 / 10,000 split; for digits about a quarter of its 1,297.
VAL_SIZE = {"mnist": 10000, "digits": 297}
#: The held-out samples are fixed, part of the data set's definition: drawn with this seed.
SPLIT_SEED = 0

# The four raw IDX files of the original MNIST, as torchvision lays them out under
# <root>/MNIST/raw/: name -> (size in bytes, sha256).
MNIST_FILES = {
    "train-images-idx3-ubyte": (47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}


class DataError(RuntimeError):
    """The data could not be found, downloaded or read; the message says how to fix it."""


@dataclass(frozen=True)
class Split:
    """One split: ``x`` (n, features) float32, ``y`` (n,) int64 class labels."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Dataset:
    """A dataset as tensors: ``train`` to fit on, ``val`` (held out from the training set) to choose
    and monitor with, ``test`` to read once per final net. ``image_shape`` is (height, width)."""

    name: str
    train: Split
    val: Split
    test: Split
    n_classes: int
    image_shape: tuple[int, int]
    scaling: str

    @property
    def n_features(self) -> int:
        return self.train.x.shape[1]

    def spec(self) -> dict:
        """What identifies the data a net is trained on (part of the cache key)."""
        return {"name": self.name, "scaling": self.scaling, "n_train": len(self.train), "n_val": len(self.val),
                "n_test": len(self.test), "split_seed": SPLIT_SEED}


@dataclass(frozen=True)
class DataSpec:
    """How to load a dataset (the arguments of :func:`load_dataset`): small and hashable, so that it
    can be sent to a worker process instead of the data."""

    name: str
    scaling: str = "unit"
    root: str | None = None

    def load(self) -> "Dataset":
        """:func:`load_dataset` with these settings: splits x (n, N) float32, y (n,) int64."""
        return load_dataset(self.name, root=self.root, scaling=self.scaling)


def load_dataset(name: str = "mnist", *, root: str | os.PathLike | None = None, download: bool | None = None,
                 scaling: str = "unit", verify: bool = True, val_size: int | None = None) -> Dataset:
    """Load a dataset as tensors, with a validation split held out from the training set: each split
    holds inputs x (n, N) float32 (N = 784 or 64 features) and labels y (n,) int64.

    Args:
        name: ``"mnist"`` (28x28, 784 features; 50,000 train / 10,000 validation / 10,000 test)
            or ``"digits"`` (scikit-learn's 8x8 digits, 64 features, 1,000 / 297 / 500, embedded in
            scikit-learn: no download).
        root: MNIST data root holding ``MNIST/raw/``; default ``$RESDYN_DATA`` or ``<repo>/data``.
        download: try to download MNIST when it is missing. ``None`` (default) tries only where
            the files are missing; ``False`` never tries.
        scaling: ``"unit"`` pixels in [0, 1] as in the paper (default); ``"centered"`` [-0.5, 0.5];
            ``"standard"`` zero mean, unit variance with the training set's pixel mean and std.
        verify: check the size and SHA-256 of each MNIST file (about 0.2 s).
        val_size: samples held out for validation (default :data:`VAL_SIZE`), drawn once with
            :data:`SPLIT_SEED`; the scaling's statistics come from the rest."""
    if name not in DATASETS:
        raise ValueError(f'Invalid dataset name "{name}". Must be one of {set(DATASETS)}.')
    if scaling not in SCALINGS:
        raise ValueError(f'Invalid scaling "{scaling}". Must be one of {set(SCALINGS)}.')
    if name == "mnist":
        train, test, shape = _load_mnist(paths.data_root(root), download=download, verify=verify)
    else:
        train, test, shape = _load_digits()
    train, val = _hold_out(train, VAL_SIZE[name] if val_size is None else val_size)
    train, val, test = _scale(train, val, test, scaling)
    n_classes = int(train.y.max()) + 1
    return Dataset(name=name, train=train, val=val, test=test, n_classes=n_classes, image_shape=shape, scaling=scaling)


def balanced_subset(split: Split, n_per_class: int, *, seed: int = 0) -> Split:
    """``n_per_class`` samples of each class of ``split`` (x (n, N), y (n,)), drawn without replacement
    with ``seed``: x (n_per_class * C, N), y (n_per_class * C,).

    The result is ordered by class (all 0s, then all 1s, ...), and within a class by the
    samples' order in ``split``, so the same seed always gives the same samples in the same order."""
    if not isinstance(n_per_class, int) or n_per_class < 1:
        raise ValueError(f"n_per_class must be a positive integer, got {n_per_class!r}.")
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in torch.unique(split.y).tolist():
        idx = torch.nonzero(split.y == c).flatten()
        if n_per_class > len(idx):
            raise ValueError(f"n_per_class={n_per_class} is larger than class {c}, which has {len(idx)} samples "
                             f"in this split; use n_per_class <= {int(torch.bincount(split.y).min())}.")
        pick = idx[torch.randperm(len(idx), generator=g)[:n_per_class]]
        chosen.append(pick.sort().values)
    index = torch.cat(chosen)
    return Split(x=split.x[index].clone(), y=split.y[index].clone())


def random_subset(split: Split, n: int, *, seed: int = 0) -> Split:
    """``n`` samples of ``split`` (x (m, N), y (m,)) drawn uniformly without replacement with ``seed``:
    x (n, N), y (n,) (all m if ``n >= m``)."""
    if n >= len(split):
        return split
    idx = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    return Split(x=split.x[idx].clone(), y=split.y[idx].clone())


# ----------------------------------------------------------------------------------------------
# internals


def _hold_out(train: Split, n: int) -> tuple[Split, Split]:
    """(rest, held out): ``n`` samples drawn with :data:`SPLIT_SEED`, both in the original order."""
    if not isinstance(n, int) or not 1 <= n < len(train):
        raise ValueError(f"val_size must be an integer in [1, {len(train) - 1}], got {n!r}.")
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, rest = perm[:n].sort().values, perm[n:].sort().values
    return Split(train.x[rest], train.y[rest]), Split(train.x[val], train.y[val])


def _scale(train: Split, val: Split, test: Split, scaling: str) -> tuple[Split, Split, Split]:
    if scaling == "unit":
        return train, val, test
    if scaling == "centered":
        shift, scale = 0.5, 1.0
    else:  # standard: the training part's pixel mean and std
        shift, scale = train.x.mean(), train.x.std()
    return tuple(Split((s.x - shift) / scale, s.y) for s in (train, val, test))


def _load_digits() -> tuple[Split, Split, tuple[int, int]]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.tensor(bunch.data, dtype=torch.float32) / 16.0  # pixel values 0..16 -> [0, 1]
    y = torch.tensor(bunch.target, dtype=torch.int64)
    # A fixed split, part of the dataset's definition: 500 test samples, drawn with seed 0.
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    test, train = perm[:500].sort().values, perm[500:].sort().values
    return Split(x[train], y[train]), Split(x[test], y[test]), (8, 8)


def _missing_message(root: Path, missing: list[str], reason: str) -> str:
    return (f"MNIST not found under data root {root} (looked for {root / 'MNIST' / 'raw'}; "
            f"missing: {', '.join(missing)}). {reason} "
            "Fix: point resdyn at a folder holding MNIST/raw/ in torchvision's layout, either with "
            "root=... (Python), --data-root (command line) or the environment variable RESDYN_DATA, "
            "e.g. RESDYN_DATA=../shared/data; or allow the download on a machine with network access.")


def _try_download(root: Path) -> None:
    """Fetch MNIST from torchvision's mirrors into a temporary folder and move the files ``root``
    lacks into ``root/MNIST/raw`` once all four came: a failed download creates nothing under ``root``
    (torchvision's own download makes ``MNIST/raw`` first and leaves partial files in it)."""
    import shutil
    import tempfile

    from torchvision.datasets import MNIST

    with tempfile.TemporaryDirectory(prefix="resdyn-mnist-") as tmp:
        MNIST(tmp, train=True, download=True)
        raw = root / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for name in MNIST_FILES:
            if not (raw / name).is_file():
                shutil.move(Path(tmp) / "MNIST" / "raw" / name, raw / name)


def _check_mnist_files(raw: Path, verify: bool) -> None:
    for fname, (size, sha) in MNIST_FILES.items():
        f = raw / fname
        actual = f.stat().st_size
        if actual != size:
            raise DataError(f"Corrupt MNIST file {f}: {actual} bytes, expected {size} (truncated or not MNIST). "
                            "Fix: delete it and download again, or point RESDYN_DATA at an intact copy.")
        if verify:
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            if digest != sha:
                raise DataError(f"Corrupt MNIST file {f}: SHA-256 {digest}, expected {sha}. "
                                "Fix: delete it and download again, or point RESDYN_DATA at an intact copy.")


def check_mnist(root: str | os.PathLike | None = None, *, download: bool | None = None, verify: bool = False) -> Path:
    """The data root (:func:`resdyn.core.paths.data_root`) once it holds the four MNIST files of the right
    sizes (``verify``: and SHA-256), downloading the missing ones where ``download`` allows (see
    :func:`load_dataset`). Raises :class:`DataError` naming the root, the missing or corrupt files and
    the fix; a root that fails the check is left as it was."""
    root = paths.data_root(root)
    raw = root / "MNIST" / "raw"
    missing = [f for f in MNIST_FILES if not (raw / f).is_file()]
    if missing:
        if download is False:
            raise DataError(_missing_message(root, missing, "Download is switched off (download=False)."))
        if not root.is_dir() and root != paths.REPO_ROOT / "data":
            raise DataError(_missing_message(root, missing, f"The data root {root} does not exist, and resdyn "
                                             "creates no folder the user did not make (only <repo>/data)."))
        try:
            _try_download(root)
        except Exception as exc:  # no network, mirror down, disk full, ...
            why = " ".join(str(exc).split())  # torchvision's message spans lines
            raise DataError(_missing_message(root, missing, f"The download failed ({type(exc).__name__}: {why}).")) from exc
    _check_mnist_files(raw, verify)
    return root


def _load_mnist(root: Path, *, download: bool | None, verify: bool):
    from torchvision.datasets import MNIST

    check_mnist(root, download=download, verify=verify)
    shape = (28, 28)
    splits = []
    for train in (True, False):
        ds = MNIST(str(root), train=train, download=False)
        x = ds.data.reshape(len(ds.data), -1).to(torch.float32) / 255.0  # pixels in [0, 1]
        splits.append(Split(x, ds.targets.to(torch.int64)))
    return splits[0], splits[1], shape
