"""The longer version's toy for the adaptive-depth rule: two concentric circles.

The longer version (arXiv 2101.03009, Sec. 5) reports one adaptive-depth result, on scikit-learn's
two concentric circles: "with shared weights the adaptive rule ends at 5 layers with 100 %
accuracy; with separate weights it keeps all 15". It gives no width, data size, noise, optimizer or
schedule, so the setup here is ours, stated in full in :data:`SETUP` and fixed before the first run:

- data: ``make_circles`` with noise 0.05 and factor 0.5 (radii 1 and 0.5). The paper's 100 %
  accuracy needs data that can be separated; at noise 0.05 the gap between the rings is 5 noise
  standard deviations on either side of radius 0.75.
- lifting: a residual flow x(t+1) = x(t) + y(t+1) on the plane itself is close to a homeomorphism
  and cannot pull the inner disc out of the outer ring, so the 2-D point is zero-padded to a
  ``width``-dimensional state x(0) = (p1, p2, 0, ..., 0), as augmented neural ODEs do (Dupont et
  al., 2019); width 16.
- net and training: the package's regime (``resdyn.studies.experiment.REGIME``: sigmoid, 15 layers, small
  Gaussian weights N(0, 0.1^2 / N), bias -4, Adam with a cosine-decayed learning rate) with the
  quick mode's small-data step (``QUICK_TRAIN``: batch 64, learning rate 1e-2, fp32); 30 epochs, so
  that more than the 10 checks needed to go from 15 to 5 layers fit in one run.
- the rule: the paper's, as in notebook 04: threshold 0.01 on the mean over probe samples and
  neurons of |y(T) - y(T-1)|, checked after every epoch but the last on 200 class-balanced training
  points, at most one layer removed per check, never below 2 layers.

    >>> record = run()                 # both kinds of weights, seconds
    >>> print(verdict_text.table(claims.toy_verdicts(record)))
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Dataset, Split
from resdyn.studies.markdown import table
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.pruning import PAPER_THRESHOLD, AdaptiveDepthConfig
from resdyn.core.train import FitResult, TrainConfig, fit
from resdyn.studies.sections.common import censored_depth, unsaved


def circles(*, n_train: int, n_val: int, n_test: int, noise: float, factor: float, width: int,
            seed: int) -> Dataset:
    """scikit-learn's two concentric circles, each 2-D point lifted into a ``width``-dimensional state.

    The lifting is zero-padding: ``x[:, :2]`` is the point, ``x[:, 2:]`` is 0, so the residual flow
    has ``width - 2`` extra dimensions to move the inner disc out of the outer ring (on the plane
    itself it could not: a residual flow with small steps is close to a homeomorphism).

    Each split is its own ``make_circles`` draw (``shuffle=True``) with a random state derived from
    ``seed``, so the validation split is held out from the training distribution and every split
    has ``n // 2`` points of the outer circle (label 0) and ``n - n // 2`` of the inner (label 1).
    Note that ``make_circles`` places the points at evenly spaced angles and adds Gaussian noise of
    standard deviation ``noise`` to each coordinate: splits of equal size share their angles and
    differ by their noise.

    Args:
        n_train, n_val, n_test: points per split, each >= 2 (both circles present).
        noise: standard deviation of the Gaussian noise, >= 0.
        factor: radius of the inner circle relative to the outer (radius 1), in (0, 1).
        width: state dimension N >= 2 (the network's width).
        seed: the data's seed; the same seed gives the same tensors.

    Returns:
        a :class:`resdyn.core.data.Dataset` named ``"circles"``: ``x`` (n, width) float32, ``y`` (n,)
        int64, two classes, ``image_shape`` (1, width), ``scaling`` ``"none"`` (raw coordinates).
    """
    from sklearn.datasets import make_circles

    for name, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}.")
    if not (isinstance(noise, (int, float)) and 0 <= noise < float("inf")):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}.")
    if not (isinstance(factor, (int, float)) and 0 < factor < 1):
        raise ValueError(f"factor must be a number in (0, 1), got {factor!r}.")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}.")
    states = np.random.SeedSequence([seed, 2]).generate_state(3)  # one stream per split (2: two circles)
    splits = []
    for n, state in zip((n_train, n_val, n_test), states):
        points, labels = make_circles(n_samples=n, noise=noise, factor=factor, shuffle=True,
                                      random_state=int(state))
        x = torch.zeros(n, width, dtype=torch.float32)
        x[:, :2] = torch.from_numpy(points).to(torch.float32)
        splits.append(Split(x, torch.from_numpy(labels).to(torch.int64)))
    train, val, test = splits
    return Dataset(name="circles", train=train, val=val, test=test, n_classes=2, image_shape=(1, width),
                   scaling="none")


@dataclass(frozen=True)
class ToySetup:
    """Every number of the toy run (see the module docstring for why these).

    Args:
        n_train, n_val, n_test, noise, factor, width: the data (:func:`circles`).
        depth: layers at the start, T = 15 as in the paper.
        init_scale, init_bias: residual layers' initialization (:class:`resdyn.core.model.ModelConfig`).
        optimizer, lr, schedule, batch_size, epochs: training (:class:`resdyn.core.train.TrainConfig`).
        threshold, min_depth, probe_size: the adaptive rule (:class:`resdyn.core.pruning.AdaptiveDepthConfig`;
            one removal per check, none after the last epoch).
        seed: data, initialization and shuffling.
        threads: torch CPU threads while training (restored afterwards): results are bit-identical
            only for the same thread count.
    """

    n_train: int = 1000
    n_val: int = 200
    n_test: int = 1000
    noise: float = 0.05
    factor: float = 0.5
    width: int = 16
    depth: int = 15
    init_scale: float = 0.1
    init_bias: float = -4.0
    optimizer: str = "adam"
    lr: float = 1e-2
    schedule: str = "cosine"
    batch_size: int = 64
    epochs: int = 30
    threshold: float = PAPER_THRESHOLD
    min_depth: int = 2
    probe_size: int = 200
    seed: int = 0
    threads: int = 1

    def to_dict(self) -> dict:
        return asdict(self)

    def data(self) -> Dataset:
        return circles(n_train=self.n_train, n_val=self.n_val, n_test=self.n_test, noise=self.noise,
                       factor=self.factor, width=self.width, seed=self.seed)

    def model_config(self, *, shared: bool) -> ModelConfig:
        return ModelConfig(width=self.width, depth=self.depth, n_classes=2, activation="sigmoid",
                           shared_weights=shared, init_scale=self.init_scale, init_bias=self.init_bias)

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, optimizer=self.optimizer, lr=self.lr,
                           schedule=self.schedule, seed=self.seed, device="cpu", precision="fp32")

    def adaptive_config(self) -> AdaptiveDepthConfig:
        return AdaptiveDepthConfig(threshold=self.threshold, min_depth=self.min_depth, max_removals_per_check=1,
                                   probe_size=self.probe_size, prune_after_last_epoch=False)

    def describe(self) -> str:
        """The setup in one line."""
        return (f"make_circles noise {self.noise:g}, factor {self.factor:g}, {self.n_train}/{self.n_val}/{self.n_test} "
                f"train/val/test points zero-padded to N = {self.width}; T = {self.depth} sigmoid layers, init "
                f"N(0, {self.init_scale:g}^2/N) bias {self.init_bias:g}; {self.optimizer} lr {self.lr:g} {self.schedule}, "
                f"batch {self.batch_size}, {self.epochs} epochs; threshold {self.threshold:g}, probe {self.probe_size}, "
                f"seed {self.seed}")


#: The toy's setup, chosen before the first run (module docstring).
SETUP = ToySetup()
#: The quick variant, for tests and ``RESDYN_QUICK=1``: half the points. Its numbers are regression
#: values, not the toy's result.
QUICK_SETUP = replace(SETUP, n_train=500, n_val=100, n_test=500)


# ----------------------------------------------------------------------------------------------
# The record and the function that computes it.


@dataclass(frozen=True)
class ToyNet:
    """One adaptive-depth run from ``initial_depth`` layers.

    depth[i], criterion[i], val_acc_history[i]: after epoch i+1 (depth after that epoch's check;
    the criterion before any removal; after the last epoch it is recorded and nothing is removed).
    initial_criterion: before training. always_below, censored: as in
    :class:`resdyn.studies.sections.adaptive.AdaptiveNet` (censored: the final depth is not where the rule stops pruning).
    test_acc: read once, after training.
    """

    initial_depth: int
    final_depth: int
    test_acc: float
    val_acc: float
    initial_criterion: float
    depth: list[int]
    criterion: list[float]
    val_acc_history: list[float]
    always_below: bool
    censored: bool
    train_seconds: float


@dataclass(frozen=True)
class ToyCircles:
    """The toy: its setup (as a dict) and one :class:`ToyNet` per kind of weights. The not-saved
    fields hold the figure's data: the test points (n, 2), their labels, the grid's coordinates
    and each final net's predicted class on the grid (len(grid_y), len(grid_x))."""

    setup: dict
    nets: dict[str, ToyNet]
    seconds: float
    points: Any = unsaved()
    labels: Any = unsaved()
    grid_x: Any = unsaved()
    grid_y: Any = unsaved()
    predictions: Any = unsaved()

    SECTION: ClassVar[str] = "toy"

    @property
    def threshold(self) -> float:
        return self.setup["threshold"]


def toy_net(result: FitResult, setup: ToySetup, *, seconds: float) -> ToyNet:
    """:class:`ToyNet` of one adaptive run."""
    criteria = [float(r.criterion) for r in result.history]
    always, censored = censored_depth(criteria, setup.threshold, setup.min_depth, result.model.depth)
    return ToyNet(initial_depth=setup.depth, final_depth=result.model.depth, test_acc=result.test_acc,
                  val_acc=result.val_acc, initial_criterion=float(result.initial_criterion),
                  depth=[r.depth for r in result.history], criterion=criteria,
                  val_acc_history=[r.val_acc for r in result.history], always_below=always, censored=censored,
                  train_seconds=seconds)


@contextlib.contextmanager
def _torch_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run(*, quick: bool = False, seed: int = 0, setup: ToySetup | None = None, log=print,
                grid: int = 121) -> ToyCircles:
    """Adaptive-depth training on the two circles for shared and separate weights.

    Args:
        quick: :data:`QUICK_SETUP` instead of :data:`SETUP`.
        seed: replaces the setup's seed (data, initialization, shuffling).
        setup: another setup (then ``quick`` is ignored), e.g. for tests.
        log: called with one line per run (``None``: silent).
        grid: points per axis of the decision-region grid kept for the figure.
    """
    s = replace(setup if setup is not None else QUICK_SETUP if quick else SETUP, seed=seed)
    data = s.data()
    t_all = time.perf_counter()
    nets, models = {}, {}
    with _torch_threads(s.threads):
        for net in NETS:
            t0 = time.perf_counter()
            model = DenseResNet(s.model_config(shared=net == "shared"), seed=s.seed)
            result = fit(model, data, s.train_config(), adaptive=s.adaptive_config(), progress=False)
            nets[net] = toy_net(result, s, seconds=time.perf_counter() - t0)
            models[net] = result.model
            if log is not None:
                a = nets[net]
                log(f"{net:8s}: depth {a.initial_depth} -> {a.final_depth}{' (censored)' if a.censored else ''}, "
                    f"test accuracy {a.test_acc:.4f}, criterion before training {a.initial_criterion:.2e}, "
                    f"after the last epoch {a.criterion[-1]:.2e}")
        gx = np.linspace(-1.5, 1.5, grid, dtype=np.float32)
        xx, yy = np.meshgrid(gx, gx)
        lifted = torch.zeros(grid * grid, s.width)
        lifted[:, 0], lifted[:, 1] = torch.from_numpy(xx.ravel()), torch.from_numpy(yy.ravel())
        with torch.no_grad():
            predictions = {net: m.eval()(lifted).argmax(1).reshape(grid, grid).numpy() for net, m in models.items()}
    return ToyCircles(setup=s.to_dict(), nets=nets, seconds=time.perf_counter() - t_all,
                      points=data.test.x[:, :2].numpy(), labels=data.test.y.numpy(), grid_x=gx, grid_y=gx,
                      predictions=predictions)


def verdicts(rec: ToyCircles) -> list[claims.Verdict]:
    return claims.toy_verdicts(rec)


def render(t: ToyCircles, link: str) -> str:
    """The report's section: the setup and the verdicts."""
    out = ["## The longer version's toy: two concentric circles", "", f"Notebook: {link}. "
           "Setup (chosen before the run; the paper gives none): " + ", ".join(f"{k} {v}" for k, v in t.setup.items()) + ".", ""]
    out.append(table(["claim", "paper", "ours", "controls", "verdict"],
                      [(v.claim, v.paper, v.ours, v.controls, f"**{v.verdict}**") for v in claims.toy_verdicts(t)]))
    return "\n".join(out + [""])


def describe_run(exp) -> str:
    """Which run a toy record comes from: the circles, in ``exp``'s mode and seed (not MNIST or digits)."""
    return f"{exp.mode} run of the two circles (seed {exp.seed})" + (": regression values for the tests" if exp.quick else "")
