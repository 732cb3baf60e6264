"""Full-scale checks on real MNIST (minutes each): `make test-full` or `pytest -m full`.

The default test run deselects them; CI runs the whole reproduction instead (`make reproduce`)."""
import os
from pathlib import Path

import pytest

from resdyn import paths
from resdyn.experiment import setup

pytestmark = pytest.mark.full
# real MNIST for the tests that need it: $RESDYN_DATA (set by the Makefile and CI), else ../shared/data
SHARED = Path(os.environ.get("RESDYN_DATA") or paths.REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="module")
def exp():
    return setup(quick=False, data_root=str(SHARED))


@pytest.mark.parametrize("net", ["separate", "shared"])
def test_chosen_regime_reaches_98_percent(exp, net):
    result = exp.train(shared=(net == "shared"), progress=False)
    assert result.test_acc >= 0.98, f"{net}: {result.test_acc:.4f}"
