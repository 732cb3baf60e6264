"""The paper's experiment in one place: which data, which nets, which regime, where outputs go.

Every notebook starts with ``exp = setup(quick=..., seed=..., data_root=..., out_dir=...)`` and
then asks ``exp`` for the data, the trained nets and the output folders, so the notebooks agree on
the settings and share trained nets through the cache.

Full mode: MNIST, N = 784, T = 15, 200 test samples per class (the paper's setting).
Quick mode: scikit-learn's 8x8 digits, N = 64, T = 15, 40 test samples per class: the same code
path in seconds, for tests and CI; its numbers say nothing about the paper.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from . import paths
from .data import Dataset, Split, balanced_subset, load_dataset
from .model import ModelConfig
from .pruning import AdaptiveDepthConfig
from .train import FitResult, TrainConfig, train_or_load

#: The training regime chosen from the sweep in ``notebooks/00_training_regime.ipynb``
#: (see its table and paper/REPORT.md): small Gaussian weights with a negative bias, so that the
#: residuals start small and the cumulative signal does not drift into saturation, standardized
#: inputs, Adam with a cosine-decayed learning rate. 10 epochs: with at most one layer removed per
#: epoch, the adaptive-depth run needs at least 10 epochs to get from 15 layers to the paper's 5.
REGIME = {
    "scaling": "standard",
    "init_scale": 0.1,
    "init_bias": -4.0,
    "train": TrainConfig(epochs=10, batch_size=128, optimizer="adam", lr=1e-3, schedule="cosine"),
}
#: The quick mode's regime on digits (1,297 training samples: more epochs, larger steps).
QUICK_TRAIN = TrainConfig(epochs=12, batch_size=64, optimizer="adam", lr=1e-2, schedule="cosine")


@dataclass(frozen=True)
class RunDirs:
    """Output folders of one run: figures, the report and results.json, and scratch (executed
    notebooks, per-notebook result fragments)."""

    figures: Path
    paper: Path
    scratch: Path

    @property
    def fragments(self) -> Path:
        return self.scratch / "results"


def run_dirs(quick: bool, out_dir: str | os.PathLike | None = None) -> RunDirs:
    """Full run: ``figures/`` and ``paper/`` of the repository, scratch in ``build/full``.
    Quick run: all under ``build/quick``. An explicit ``out_dir`` holds all three."""
    if out_dir is not None:
        out = Path(out_dir).expanduser().resolve()
        return RunDirs(out / "figures", out / "paper", out)
    if quick:
        out = paths.output_dir(quick=True)
        return RunDirs(out / "figures", out / "paper", out)
    build = paths.output_dir(quick=True).parent
    return RunDirs(paths.FIGURES_DIR, paths.PAPER_DIR, build / "full")


@dataclass(frozen=True)
class Setup:
    """Settings and data of one run of the paper's experiment."""

    quick: bool
    seed: int
    data: Dataset
    depth: int
    n_per_class: int
    train_config: TrainConfig
    init_scale: float | None
    init_bias: float
    dirs: RunDirs
    threshold: float = 0.01

    @property
    def sweep_budget(self) -> tuple[int | None, int]:
        """(training samples, epochs) of stage 1 of the regime sweep (``None``: all samples)."""
        return (None, 4) if self.quick else (20000, 1)

    def model_config(self, *, shared: bool, depth: int | None = None) -> ModelConfig:
        return ModelConfig(
            width=self.data.n_features, depth=depth or self.depth, n_classes=self.data.n_classes,
            activation="sigmoid", shared_weights=shared, init_scale=self.init_scale, init_bias=self.init_bias,
        )

    def adaptive_config(self) -> AdaptiveDepthConfig:
        return AdaptiveDepthConfig(threshold=self.threshold, min_depth=2, max_removals_per_check=1,
                                   probe_size=1000 if not self.quick else 200)

    def train(self, *, shared: bool, adaptive: bool = False, progress: bool = True) -> FitResult:
        """The 15-layer net (separate or shared weights), trained once and then read from the cache."""
        return train_or_load(
            self.data, self.model_config(shared=shared), self.train_config,
            adaptive=self.adaptive_config() if adaptive else None, progress=progress,
        )

    def samples(self) -> Split:
        """``n_per_class`` test samples of each class (seeded), ordered by class."""
        return balanced_subset(self.data.test, self.n_per_class, seed=self.seed)


def setup(*, quick: bool = False, seed: int = 0, data_root: str | None = None,
          out_dir: str | None = None, threads: int | None = None) -> Setup:
    """The experiment's settings for a full (MNIST) or quick (digits) run.

    Args:
        threads: torch CPU threads (default: leave torch's choice). Results are bit-identical
            only for the same thread count on the same machine.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    name = "digits" if quick else "mnist"
    data = load_dataset(name, root=data_root, scaling=REGIME["scaling"])
    train = replace(QUICK_TRAIN if quick else REGIME["train"], seed=seed)
    return Setup(
        quick=quick, seed=seed, data=data, depth=15, n_per_class=40 if quick else 200,
        train_config=train, init_scale=REGIME["init_scale"], init_bias=REGIME["init_bias"],
        dirs=run_dirs(quick, out_dir),
    )


# ----------------------------------------------------------------------------------------------
# The training-regime sweep (notebook 00): one change at a time from the chosen regime.


@dataclass(frozen=True)
class Variant:
    """One row of the sweep: a name, and the changes from the chosen regime."""

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
        Variant("chosen regime"),
        Variant("baseline: PyTorch init, inputs [0,1], Adam 1e-3 constant", **baseline),
        Variant("init: PyTorch default", model={"init_scale": None, "init_bias": 0.0}),
        Variant("init scale 1.0", model={"init_scale": 1.0}),
        Variant("init bias -2", model={"init_bias": -2.0}),
        Variant("init bias -6", model={"init_bias": -6.0}),
        Variant("inputs [0, 1] (paper)", scaling="unit"),
        Variant("inputs centred, [-0.5, 0.5]", scaling="centered"),
        Variant("lr 3e-4", train={"lr": 3e-4}),
        Variant("lr 3e-3", train={"lr": 3e-3}),
        Variant("schedule constant", train={"schedule": "constant"}),
        Variant("batch 256", train={"batch_size": 256}),
        Variant("SGD momentum 0.9, lr 0.05", train={"optimizer": "sgd", "lr": 0.05}),
        Variant("chosen regime", shared=True),
        Variant("baseline: PyTorch init, inputs [0,1], Adam 1e-3 constant", shared=True, **baseline),
    ]


def train_variant(exp: Setup, variant: Variant, *, n_train: int | None, epochs: int,
                  data_root: str | None = None, progress: bool = False) -> tuple[FitResult, Dataset]:
    """Train one sweep variant on ``n_train`` samples (``None``: all) for ``epochs`` epochs.

    Returns the result and the dataset it was trained on (the variant may scale inputs differently).
    The chosen regime at full length is the very net of notebook 01 (the same cache entry)."""
    data = exp.data
    scaling = variant.scaling or REGIME["scaling"]
    if scaling != data.scaling:
        data = load_dataset(data.name, root=data_root, scaling=scaling)
    model = replace(exp.model_config(shared=variant.shared), **(variant.model or {}))
    train = replace(exp.train_config, epochs=epochs, n_train=n_train, **(variant.train or {}))
    return train_or_load(data, model, train, progress=progress), data


def run_variant(exp: Setup, variant: Variant, *, n_train: int | None, epochs: int, data_root: str | None = None,
                progress: bool = False) -> dict:
    """:func:`train_variant`, summarized as a row of the sweep's table."""
    result, data = train_variant(exp, variant, n_train=n_train, epochs=epochs, data_root=data_root, progress=progress)
    model, train = result.model.config, result.config
    return {"name": variant.name, "shared": variant.shared, "scaling": data.scaling,
            "init_scale": model.init_scale, "init_bias": model.init_bias, "optimizer": train.optimizer,
            "lr": train.lr, "schedule": train.schedule, "batch_size": train.batch_size,
            "test_acc": result.test_acc, "train_loss": result.history[-1].loss, "seconds": result.seconds}
