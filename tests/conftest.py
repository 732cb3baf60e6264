import os

import pytest
import torch

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
