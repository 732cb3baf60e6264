"""Full-scale checks on real MNIST (minutes each): `make test-full` or `pytest -m full`.

The default test run deselects them; CI runs the whole reproduction instead (`make reproduce`)."""
import pytest

from resdyn.studies.experiment import setup

pytestmark = pytest.mark.full


@pytest.fixture(scope="module")
def exp(mnist_root):
    return setup(quick=False, data_root=str(mnist_root))


@pytest.mark.parametrize("net", ["separate", "shared"])
def test_chosen_regime_reaches_98_percent(exp, net):
    result = exp.train(shared=(net == "shared"), progress=False)
    assert result.test_acc >= 0.98, f"{net}: {result.test_acc:.4f}"
