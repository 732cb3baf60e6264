"""The paper's experiment in one place: the regime, the data, the nets, where a run's outputs go.

Every notebook starts with ``exp = resdyn.setup(quick=..., seed=..., data_root=..., out_dir=...)``
and then asks ``exp`` for the data, the trained nets and the output folders, so the notebooks agree
on the settings and share trained nets through the cache.

Full mode: MNIST, N = 784, T = 15, 200 test samples per class (the paper's setting).
Quick mode: scikit-learn's 8x8 digits, N = 64, T = 15, 40 test samples per class: the same code
path in seconds, for tests and CI; its numbers say nothing about the paper.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from resdyn.lib import fragments
from resdyn.core import paths
from resdyn.studies import style, switches
from resdyn.core.claims import CONVERGENCE, NETS
from resdyn.core.data import Dataset, DataSpec, Split, balanced_subset, load_dataset
from resdyn.lib.data1d import Mnist1dSpec
from resdyn.lib.fitting import FitConfig, HealConfig
from resdyn.core.model import ModelConfig, check_seed
from resdyn.lib.parallel import Job, plan, train_many
from resdyn.core.pruning import PAPER_THRESHOLD, AdaptiveDepthConfig
from resdyn.studies.regimes import Budget, Candidate, Regime, Study1d, Variant, regime_variants
from resdyn.core.train import FitResult, TrainConfig
from resdyn.core.trainconfig import choose_precision
from resdyn.lib.writing import save_figure
from resdyn.lib.zoo import FAMILY_NAMES

# ----------------------------------------------------------------------------------------------
# The run's settings, in one place: the regime, the depth, the budgets, the quick mode.

#: The training regime chosen from the sweep in ``notebooks/00_training_regime.ipynb`` (see its
#: table and paper/REPORT.md): small Gaussian weights with a negative bias, so that the residuals
#: start small and the cumulative signal does not drift into saturation, standardized inputs, Adam
#: with a cosine-decayed learning rate. ``TrainConfig()``'s defaults are this regime's.
REGIME = Regime(scaling="standard", init_scale=0.1, init_bias=-4.0, train=TrainConfig())
#: The quick mode's training on digits (1,000 training samples: more epochs, larger steps). Its
#: numbers are regression values for the tests: fp32 and one thread, so that they do not depend on
#: the processor's bf16 support or core count.
QUICK_TRAIN = TrainConfig(epochs=12, batch_size=64, lr=1e-2, precision="fp32")
QUICK_THREADS = 1
#: The paper's depth.
DEPTH = 15
#: The analyses' sample counts and the regime sweep's stage-1 budget, per mode.
BUDGETS = {"full": Budget(n_per_class=200, probe_size=1000, sweep=(20000, 1)),
           "quick": Budget(n_per_class=40, probe_size=200, sweep=(None, 4))}
#: The MNIST-1D criteria study (notebooks 12-14), fixed before its first run:
#: 10,000 generated signals (7,000 train / 1,000 validation / 2,000 test), Adam early-stopped on the
#: validation loss (patience 5, at most 300 epochs), the learning rate chosen per family on validation
#: from two, 15 blocks and a ladder of depths from scratch, 5 seeds, 30 healing steps, the adaptive
#: rule at 0.01 on every seed and at 0.003 and 0.03 on the first. At most 300 epochs: the dense nets of the
#: learning-rate choice still improve at epoch 30, and a capped run is not "trained until the validation loss
#: stops improving"; the record names every net of the ladder that stopped at the cap (depth1d's ``capped``).
#: Raised on 2026-12-07 from 100 epochs and 3 seeds, before the study's re-run.
#: Quick mode:
#: 1,000 signals, 4 blocks, two seeds, a few epochs: regression values for the tests.
STUDY_1D = {
    "full": Study1d(data=Mnist1dSpec(num_samples=10000, val_size=1000), fit=FitConfig(max_epochs=300, patience=5),
                    lrs=(1e-3, 3e-3), families=FAMILY_NAMES, depth=15, ladder=(1, 2, 4, 8, 15), seeds=(0, 1, 2, 3, 4),
                    healing=HealConfig(steps=30), thresholds=(0.003, 0.01, 0.03), sweep_seeds=(0,)),
    "quick": Study1d(data=Mnist1dSpec(num_samples=1000, val_size=200), fit=FitConfig(max_epochs=4, patience=2),
                     lrs=(3e-3,), families=FAMILY_NAMES, depth=4, ladder=(1, 2, 4), seeds=(0, 1),
                     healing=HealConfig(steps=5), thresholds=(0.01, 0.1), sweep_seeds=(0,), n_criterion=200),
}
#: The paper-like regime's free details (fixed before its run), chosen on validation
#: (resdyn.studies.sections.by_regime.choose_paper_like); the schedule joined on 2026-12-07
#: (resdyn.core.claims.REGIMES), before the regimes units' re-run.
PAPER_LIKE_GRID = {"init_scale": (0.1, 1.0), "lr": (1e-3, 3e-4), "schedule": ("constant", "cosine")}
# ----------------------------------------------------------------------------------------------


def regime_train(regime: Regime, *, quick: bool, converge: bool = False) -> TrainConfig:
    """How ``regime`` trains in this mode: its own training (full), or the quick training with the
    regime's schedule, patience and learning rate scaled as the quick training scales the chosen
    regime's (quick). ``converge``: until the validation loss has not improved for
    :data:`resdyn.core.claims.CONVERGENCE`'s patience, at most its epochs (quick: the quick epochs)."""
    t = regime.train
    if quick:
        lr = round(t.lr * QUICK_TRAIN.lr / REGIME.train.lr, 12)
        train = replace(QUICK_TRAIN, schedule=t.schedule, patience=t.patience, lr=lr, optimizer=t.optimizer,
                        stop_on=t.stop_on)
    else:
        train = t
    if converge:
        th = CONVERGENCE.thresholds
        train = replace(train, epochs=train.epochs if quick else th["max_epochs"], patience=th["patience"],
                        stop_on=th["stop_on"])
    return train


#: The variable through which :mod:`resdyn.run.reproduce` sends its notebooks' figures to a folder of
#: its own: a run that fails or is killed leaves the figures folder as it was.
STAGED_FIGURES = "RESDYN_STAGED_FIGURES"


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


def run_dirs(quick: bool, out_dir: str | os.PathLike | None = None, *, seed: int = 0) -> RunDirs:
    """Full run of seed 0: ``figures/`` and ``paper/`` of the repository, scratch in ``build/full``.
    Quick runs and other seeds: all under ``build/quick``, ``build/full-seed<k>`` (``build/quick-seed<k>``),
    so they never touch the committed record. An explicit ``out_dir`` holds all three. A scratch
    folder inside the source folders ``notebooks/`` or ``resdyn/`` (where pytest would collect the
    executed notebooks), or the checkout itself (whose ``notebooks/`` the run would overwrite), raises
    ``ValueError`` naming ``--out`` or ``$RESDYN_OUT``."""
    check_seed(seed)
    if out_dir is not None:
        out = Path(out_dir).expanduser().resolve()
        dirs = RunDirs(out / "figures", out / "paper", out)
    elif quick or seed != 0:
        out = switches.build_dir() / (("quick" if quick else "full") + (f"-seed{seed}" if seed else ""))
        dirs = RunDirs(out / "figures", out / "paper", out)
    else:
        dirs = RunDirs(paths.FIGURES_DIR, paths.PAPER_DIR, switches.build_dir() / "full")
    inside = next((f for f in (paths.NOTEBOOKS_DIR, paths.REPO_ROOT / "resdyn") if dirs.scratch.is_relative_to(f)), None)
    if inside is not None or dirs.scratch == paths.REPO_ROOT:
        where = f"inside the source folder {inside}" if inside else "the checkout, whose notebooks/ it would overwrite"
        raise ValueError(f"{'--out' if out_dir is not None else '$RESDYN_OUT'} gives the output folder {dirs.scratch}, "
                         f"{where}: the run's executed notebooks would mix with the sources (pytest collects them). "
                         "Fix: choose a folder outside notebooks/ and resdyn/, e.g. build/out.")
    return dirs


@dataclass(frozen=True)
class Setup:
    """Settings and data of one run of the paper's experiment."""

    quick: bool
    seed: int
    data: Dataset
    dirs: RunDirs
    regime: Regime
    train_config: TrainConfig
    depth: int = DEPTH
    n_per_class: int = 200
    probe_size: int = 1000
    threshold: float = PAPER_THRESHOLD
    data_root: str | None = field(default=None, repr=False)
    mnist1d: bool = False

    @property
    def sweep_budget(self) -> tuple[int | None, int]:
        """(training samples, epochs) of stage 1 of the regime sweep (``None``: all samples)."""
        return BUDGETS[self.mode].sweep

    def model_config(self, *, shared: bool, depth: int | None = None) -> ModelConfig:
        return ModelConfig(
            width=self.data.n_features, depth=depth or self.depth, n_classes=self.data.n_classes,
            activation="sigmoid", shared_weights=shared, init_scale=self.regime.init_scale,
            init_bias=self.regime.init_bias,
        )

    def adaptive_config(self) -> AdaptiveDepthConfig:
        return AdaptiveDepthConfig(threshold=self.threshold, min_depth=2, max_removals_per_check=1,
                                   probe_size=self.probe_size)

    def job(self, *, shared: bool, depth: int | None = None, adaptive: AdaptiveDepthConfig | bool | None = None,
            variant: "Variant | None" = None, **train_changes) -> Job:
        """A net of the regime (15 layers unless ``depth``; ``adaptive=True``: the paper's adaptive
        depth) to train, with a sweep ``variant``'s changes and ``train_changes`` (e.g. ``epochs``)."""
        model = self.model_config(shared=shared, depth=depth)
        train = replace(self.train_config, **train_changes)
        scaling = self.data.scaling
        if variant is not None:
            model = replace(model, **(variant.model or {}))
            train = replace(train, **(variant.train or {}))
            scaling = variant.scaling or scaling
        if adaptive is True:
            adaptive = self.adaptive_config()
        name = f"{variant.key if variant else 'regime'} {'shared' if shared else 'separate'} seed {train.seed}: "
        return Job(data=DataSpec(self.data.name, scaling, self.data_root), model=model, train=train,
                   adaptive=adaptive or None, name=name)

    def train(self, *jobs: Job, progress: bool = True) -> list[FitResult]:
        """Train the nets (in parallel worker processes where there are several, see
        :mod:`resdyn.lib.parallel`), or read them from the cache."""
        return train_many(list(jobs), progress=progress)

    def net(self, *, shared: bool, adaptive: bool = False, depth: int | None = None) -> FitResult:
        """One net of the regime (15 layers unless ``depth``), trained once and then read from the cache."""
        return self.train(self.job(shared=shared, adaptive=adaptive, depth=depth))[0]

    def samples(self) -> Split:
        """``n_per_class`` test samples of each class (seeded), ordered by class: the paper's
        analysis set (Fig. 1A-1D)."""
        return balanced_subset(self.data.test, self.n_per_class, seed=self.seed)

    def dataset(self, scaling: str) -> Dataset:
        """The run's dataset with another input scaling."""
        if scaling == self.data.scaling:
            return self.data
        return load_dataset(self.data.name, root=self.data_root, scaling=scaling)

    @property
    def study1d(self) -> Study1d:
        """The MNIST-1D study's settings for this run's mode (:data:`STUDY_1D`), its data under this
        run's data root."""
        study = STUDY_1D[self.mode]
        return replace(study, data=replace(study.data, root=self.data_root))

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"

    @property
    def workers(self) -> int:
        """Worker processes for independent work (see :func:`resdyn.lib.parallel.plan`)."""
        return plan(1 << 30)[0]

    def describe(self) -> str:
        """One line naming the run and its data, first in every checked output: quick-mode numbers must
        never pass for the paper's. With ``mnist1d`` (notebooks 12-14) the data are the MNIST-1D study's."""
        if self.mnist1d:
            study = self.study1d.describe()
            return (f"quick mode ({study}): regression values for the tests, not the study's results" if self.quick
                    else f"full run ({study})")
        if self.quick:
            return (f"quick mode (scikit-learn's 8x8 digits, seed {self.seed}): regression values for the tests, "
                    "not the paper's results")
        return f"full run (MNIST, seed {self.seed})"

    def save(self, record) -> None:
        """Write ``record`` (a section of results.json: a section record, whose ``SECTION`` names it)
        as this run's fragment."""
        name = getattr(type(record), "SECTION", None)
        if name is None:
            raise TypeError(f"record must be a section record (resdyn.studies.sections), got {type(record).__name__}.")
        fragments.save_fragment(self.dirs.fragments, name, record, identity=self.identity())

    def save_figure(self, fig, name: str, *, dpi: int = 150) -> None:
        """Write ``name``.png and ``name``.pdf to the run's figures folder, or, in a notebook that
        ``resdyn reproduce`` runs, to the folder named by ``$RESDYN_STAGED_FIGURES``, from which the
        run publishes them together with its record (the figure stays open, so a notebook shows it)."""
        save_figure(fig, Path(os.environ.get(STAGED_FIGURES) or self.dirs.figures) / name, dpi=dpi)

    def identity(self) -> dict:
        """What a fragment of this run must share with the others to be merged with them."""
        return fragments.run_identity(self)


def setup(*, quick: bool = False, seed: int = 0, data_root: str | None = None, out_dir: str | None = None,
          threads: int | None = None, verbose: bool = True, mnist1d: bool = False) -> Setup:
    """The experiment's settings for a full (MNIST) or quick (digits) run; also sets the plot style.

    Args:
        quick: digits instead of MNIST (also switched on by ``RESDYN_QUICK=1``): a bool, 0 or 1, or the
            strings "true", "false", "1", "0" in any case (how ``papermill -p quick ...`` passes it).
        data_root, out_dir: folders, or None for the defaults (:func:`resdyn.studies.switches.check_folder`).
        threads: torch CPU threads (default: leave torch's choice). Results are bit-identical
            only for the same thread count on the same machine.
        verbose: print one line saying which run this is.
        mnist1d: the notebook studies MNIST-1D (notebooks 12-14): the line and :meth:`Setup.describe` name
            the study's data, not the paper's (which notebook 13 also reads).
    """
    check_seed(seed)
    quick = switches.quick_mode(quick)
    switches.check_folder(data_root, "data_root")
    switches.check_folder(out_dir, "out_dir")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be an integer >= 1 or None (torch's choice), got {threads!r}.")
    if threads is None and quick:
        threads = QUICK_THREADS
    if threads is not None:
        torch.set_num_threads(threads)
    style.use_style()
    data = load_dataset("digits" if quick else "mnist", root=data_root, scaling=REGIME.scaling)
    train = replace(QUICK_TRAIN if quick else REGIME.train, seed=seed)
    resolved = train.resolved()
    budget = BUDGETS["quick" if quick else "full"]
    exp = Setup(quick=quick, seed=seed, data=data, dirs=run_dirs(quick, out_dir, seed=seed), regime=REGIME,
                train_config=resolved, n_per_class=budget.n_per_class, probe_size=budget.probe_size,
                data_root=data_root, mnist1d=mnist1d)
    if verbose and mnist1d:
        print(f"{exp.mode} run on {exp.study1d.describe()}")
    elif verbose:
        why = f" ({choose_precision(torch.device(resolved.device))[1]})" if train.precision == "auto" else ""
        print(f"{exp.mode} run on {data.name}: N = {data.n_features}, T = {exp.depth}, seed {seed}, "
              f"precision {resolved.precision}{why}")
    return exp


def paper_jobs(exp: Setup, *, sweep: bool = True) -> list[Job]:
    """The nets the paper notebooks (00-04) train that depend on no other net's result: the sweep's
    stage 1 (with ``sweep=False`` only its baseline rows, which notebook 01 uses), both 15-layer
    nets and both adaptive runs. (Stage 2's rival and the from-scratch control depend on results.)"""
    n_train, epochs = exp.sweep_budget
    variants = [v for v in regime_variants() if sweep or v.key == "baseline"]
    jobs = [exp.job(shared=v.shared, variant=v, n_train=n_train, epochs=epochs) for v in variants]
    jobs += [exp.job(shared=(net == "shared")) for net in NETS]
    return jobs + [exp.job(shared=(net == "shared"), adaptive=True) for net in NETS]


def candidate_job(exp: Setup, cand: Candidate, *, shared: bool) -> Job:
    """The job that trains ``cand`` (a :class:`resdyn.studies.regimes.Candidate`) with ``exp``'s seed and precision."""
    job = exp.job(shared=shared, **cand.train)
    data = replace(job.data, scaling=cand.scaling or job.data.scaling)
    name = f"{cand.key} {'shared' if shared else 'separate'} seed {exp.seed}: "
    return replace(job, data=data, model=replace(job.model, **cand.model), name=name)
