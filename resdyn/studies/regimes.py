"""Training regimes: what a regime is, the regime sweep's variants and the studies' candidates.

A :class:`Regime` is everything but the architecture. The chosen one, ``resdyn.studies.experiment.REGIME``,
sits with the run's other settings in :mod:`resdyn.studies.experiment`; here are the *changes* from it that
the sweep (notebook 00) and the studies (notebooks 06-07) train, each fixed before its run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from resdyn.core.claims import CONVERGENCE
from resdyn.core.train import TrainConfig


@dataclass(frozen=True)
class Regime:
    """A training regime: everything but the architecture (sigmoid, x(t+1) = x(t) + y(t+1), linear
    read-out of x(T)), which is never changed.

    Args:
        scaling: input scaling (see :func:`resdyn.core.data.load_dataset`).
        init_scale, init_bias: initialization of the residual layers (see :class:`ModelConfig`).
        train: optimizer, schedule, batch size and epochs.
    """

    scaling: str
    init_scale: float | None
    init_bias: float
    train: TrainConfig

    def settings(self) -> dict:
        """The settings as one flat dict (for tables); ``patience`` and its signal ``stop_on`` only where it
        trains to convergence."""
        t = self.train
        return {"scaling": self.scaling, "init_scale": self.init_scale, "init_bias": self.init_bias,
                "optimizer": t.optimizer, "lr": t.lr, "schedule": t.schedule, "batch_size": t.batch_size,
                "epochs": t.epochs, **({} if t.patience is None else {"patience": t.patience, "stop_on": t.stop_on})}


@dataclass(frozen=True)
class Budget:
    """The sample counts of a run's analyses: ``n_per_class`` test samples per class (Fig. 1A-1D),
    ``probe_size`` training samples for the adaptive criterion, and stage 1 of the regime sweep as
    (training samples or ``None`` for all, epochs)."""

    n_per_class: int
    probe_size: int
    sweep: tuple[int | None, int]


# ----------------------------------------------------------------------------------------------
# The training-regime sweep (notebook 00): one change at a time from the chosen regime.



@dataclass(frozen=True)
class Variant:
    """One row of the sweep: a key, a display name, and the changes from the chosen regime."""

    key: str
    name: str
    shared: bool = False
    scaling: str | None = None
    model: dict | None = None
    train: dict | None = None


def regime_variants() -> list[Variant]:
    """The sweep's rows: the chosen regime, the naive baseline, and one change at a time."""
    baseline = dict(scaling="unit", model={"init_scale": None, "init_bias": 0.0},
                    train={"schedule": "constant", "lr": 1e-3})
    return [
        Variant("chosen", "chosen regime"),
        Variant("baseline", "baseline: PyTorch init, inputs [0,1], Adam 1e-3 constant", **baseline),
        Variant("init_default", "init: PyTorch default", model={"init_scale": None, "init_bias": 0.0}),
        Variant("init_scale_1", "init scale 1.0", model={"init_scale": 1.0}),
        Variant("init_bias_-2", "init bias -2", model={"init_bias": -2.0}),
        Variant("init_bias_-6", "init bias -6", model={"init_bias": -6.0}),
        Variant("inputs_unit", "inputs [0, 1] (paper)", scaling="unit"),
        Variant("inputs_centered", "inputs centred, [-0.5, 0.5]", scaling="centered"),
        Variant("lr_3e-4", "lr 3e-4", train={"lr": 3e-4}),
        Variant("lr_3e-3", "lr 3e-3", train={"lr": 3e-3}),
        Variant("schedule_constant", "schedule constant", train={"schedule": "constant"}),
        Variant("batch_256", "batch 256", train={"batch_size": 256}),
        Variant("sgd", "SGD momentum 0.9, lr 0.05", train={"optimizer": "sgd", "lr": 0.05}),
        Variant("chosen", "chosen regime", shared=True),
        Variant("baseline", "baseline: PyTorch init, inputs [0,1], Adam 1e-3 constant", shared=True, **baseline),
    ]


# ----------------------------------------------------------------------------------------------
# The studies' candidates (notebooks 06-07), fixed before any of them was trained: the paper-like
# regime and a handful of targeted configurations around the paper's input scaling.


@dataclass(frozen=True)
class Candidate:
    """A training regime to try: the changes from the chosen regime (``REGIME``).

    ``paper_scaled``: inputs in [0, 1] as in the paper (no standardization)."""

    key: str
    name: str
    scaling: str | None = None
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)

    @property
    def paper_scaled(self) -> bool:
        return self.scaling == "unit"


#: The paper-like regime at full length (the regime sweep's naive baseline,
#: trained on all samples for the chosen regime's epochs).
PAPER_LIKE = Candidate("paper_like", "paper-like: inputs [0, 1], PyTorch init, Adam 1e-3 constant", scaling="unit",
                       model={"init_scale": None, "init_bias": 0.0}, train={"schedule": "constant"})
#: Targeted configurations (both kinds of weights each).
TARGETED = (
    Candidate("gauss_b0_unit_e20", "small Gaussian weights, bias 0, inputs [0, 1], 20 epochs", scaling="unit",
              model={"init_bias": 0.0}, train={"epochs": 20}),
    Candidate("gauss_b-2_unit", "small Gaussian weights, bias -2, inputs [0, 1]", scaling="unit",
              model={"init_bias": -2.0}),
    Candidate("gauss_b-4_unit", "chosen regime with inputs [0, 1] (bias -4)", scaling="unit"),
    Candidate("gauss_b0_unit_wd", "small Gaussian weights, bias 0, inputs [0, 1], AdamW weight decay 0.5",
              scaling="unit", model={"init_bias": 0.0}, train={"optimizer": "adamw", "weight_decay": 0.5}),
    Candidate("chosen_e20", "chosen regime, 20 epochs", train={"epochs": 20}),
)


# ----------------------------------------------------------------------------------------------
# The regimes every paper claim is judged in (resdyn.core.claims.REGIMES, fixed before
# their runs): beside the chosen one (resdyn.studies.experiment.REGIME), the paper-like one and the baseline.


def paper_like(*, init_scale: float, lr: float, schedule: str = "constant") -> Regime:
    """The paper-like regime with its free details: inputs in [0, 1], weights N(0, init_scale^2 / N),
    bias 0, Adam at the learning rate ``lr`` with ``schedule`` (constant, or cosine over the epoch budget),
    trained to convergence on validation (the signal
    and patience of :data:`resdyn.core.claims.CONVERGENCE`, keeping the net of the best epoch)."""
    th = CONVERGENCE.thresholds
    return Regime(scaling="unit", init_scale=init_scale, init_bias=0.0,
                  train=TrainConfig(schedule=schedule, lr=lr, epochs=th["max_epochs"], patience=th["patience"],
                                    stop_on=th["stop_on"]))


#: PyTorch's defaults: nn.Linear's initialization, inputs in [0, 1], Adam 1e-3 constant, 10 epochs.
BASELINE = Regime(scaling="unit", init_scale=None, init_bias=0.0, train=TrainConfig(schedule="constant", lr=1e-3))


@dataclass(frozen=True)
class Study1d:
    """The MNIST-1D criteria study's settings (notebooks 12-14), one per mode.

    Args:
        data: the generated set.
        fit: training of every net (Adam, early stopping on validation); ``lrs`` the learning
            rates the study chooses from on validation, per family, at ``depth`` blocks and the
            first seed.
        families: zoo families (:data:`resdyn.lib.zoo.FAMILIES`); ``depth`` the deep nets' blocks;
            ``ladder`` the depths also trained from scratch (``depth`` included); ``seeds``.
        healing: the fine-tune after a removal (the same for every strategy).
        thresholds: the adaptive rule's thresholds (the paper's 0.01 among them), each run on
            ``sweep_seeds``; the paper's threshold runs on every seed.
        n_criterion: validation inputs the criteria are computed on.
    """

    data: object
    fit: object
    lrs: tuple[float, ...]
    families: tuple[str, ...]
    depth: int
    ladder: tuple[int, ...]
    seeds: tuple[int, ...]
    healing: object
    thresholds: tuple[float, ...]
    sweep_seeds: tuple[int, ...]
    n_criterion: int = 1000

    def describe(self) -> str:
        """The study's data and nets in a few words: "MNIST-1D, 10,000 generated signals, up to 15 blocks, seeds 0-4"."""
        seeds = f"{self.seeds[0]}-{self.seeds[-1]}" if len(self.seeds) > 2 else " and ".join(map(str, self.seeds))
        return (f"MNIST-1D, {self.data.num_samples:,} generated signals, up to {self.depth} blocks, "
                f"seed{'s' * (len(self.seeds) > 1)} {seeds}")

    def __post_init__(self):
        if self.depth not in self.ladder or 1 not in self.ladder:
            raise ValueError(f"ladder must hold 1 and depth={self.depth} (the depth-matters rule compares them), "
                             f"got {self.ladder}.")
