import os
from pathlib import Path

import pytest
import torch

from resdyn import paths

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
    from resdyn.data import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """Real MNIST for the tests that need it: $RESDYN_DATA (set by the Makefile and CI), else
    ../shared/data; the test is skipped where neither holds MNIST/raw."""
    root = Path(os.environ.get("RESDYN_DATA") or paths.REPO_ROOT.parent / "shared" / "data")
    if not (root / "MNIST" / "raw").is_dir():
        pytest.skip(f"MNIST files not present under {root}")
    return root
