import os
from pathlib import Path

import pytest
import torch

from resdyn.core import paths

# Bit-level determinism on the CPU depends on the thread count (pytorch #88718): fix it.
torch.set_num_threads(1)
os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own model cache and scratch output folder."""
    monkeypatch.setenv("RESDYN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RESDYN_OUT", str(tmp_path / "out"))


@pytest.fixture(scope="session")
def digits():
    from resdyn.core.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """Real MNIST for the tests that need it, where resdyn finds it (resdyn.core.paths.data_root); the
    test is skipped where the four MNIST files are not all there (a failed download leaves an
    empty ``MNIST/raw``)."""
    root = paths.data_root()
    if not paths.has_mnist(root):
        pytest.skip(f"MNIST files not present under {root}")
    return root
