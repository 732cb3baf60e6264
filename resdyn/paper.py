"""The paper's figures and claims as functions: each computes one section of results.json and
returns it as a typed record (its schema). The notebooks call them, show and plot the records, and
save them with ``exp.save``.

=====================  ================================  ======================  ==========
section                function                          record                  notebook
=====================  ================================  ======================  ==========
``regime``             :func:`regime_sweep`              :class:`RegimeSweep`    00
``fig1ab``             :func:`fig1ab`                    :class:`Fig1AB`         01
``fig1c``              :func:`fig1c`                     :class:`Fig1C`          02
``fig1d``              :func:`fig1d`                     :class:`Fig1D`          03
``adaptive``           :func:`adaptive_depth`            :class:`AdaptiveDepth`  04
=====================  ================================  ======================  ==========

Fields marked ``NOT_SAVED`` hold what a figure needs beyond the numbers (per-neuron means, the
distance matrix, embeddings); they exist in the notebook and are not written to results.json.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from .data import Split, balanced_subset
from .dynamics import (
    class_residual_stats,
    cluster_separation,
    collect_trajectory,
    settling_layer,
    trajectory_distances,
    tsne_embedding,
)
from .experiment import NETS, Setup, regime_variants, train_variant
from .model import DenseResNet
from .pruning import probe_set, remove_last_layers
from .train import FitResult, accuracy, train_or_load

#: Field metadata: kept in memory for figures, not written to results.json.
NOT_SAVED = {"saved": False}


def _unsaved():
    return field(default=None, metadata=NOT_SAVED, repr=False, compare=False)


@dataclass(frozen=True)
class TrainedNet:
    """One trained net: its test accuracy, training time and per-epoch history
    (:class:`resdyn.train.EpochRecord` as dicts)."""

    test_acc: float
    train_seconds: float
    epochs: int
    history: list[dict]

    @classmethod
    def of(cls, result: FitResult) -> "TrainedNet":
        return cls(test_acc=result.test_acc, train_seconds=result.seconds, epochs=len(result.history),
                   history=[asdict(r) for r in result.history])

    @property
    def epoch_seconds(self) -> list[float]:
        return [h["seconds"] for h in self.history]


# ----------------------------------------------------------------------------------------------
# 00: the training regime


@dataclass(frozen=True)
class SweepRow:
    """One trained variant of the sweep (``key`` and ``shared`` identify it; ``name`` is for display)."""

    key: str
    name: str
    shared: bool
    scaling: str
    init_scale: float | None
    init_bias: float
    optimizer: str
    lr: float
    schedule: str
    batch_size: int
    test_acc: float
    train_loss: float
    seconds: float


@dataclass(frozen=True)
class Stage2:
    """The chosen regime and the best other separate-weights variant of stage 1, at full length."""

    epochs: int
    runner_up: str
    test_acc: dict[str, float]
    seconds: dict[str, float]


@dataclass(frozen=True)
class RegimeSweep:
    """Section ``regime``: stage 1 (every variant on a short budget) and stage 2 (full length).

    ``best``: key of the best separate-weights variant of stage 1; ``chosen_rank``: the chosen
    regime's rank among the separate-weights variants (1 = best)."""

    n_train: int
    epochs: int
    chosen: dict[str, Any]
    table: list[SweepRow]
    best: str
    chosen_rank: int
    chosen_acc: float
    baseline_acc: float
    stage2: Stage2

    def ranked(self) -> list[SweepRow]:
        """Separate-weights rows of stage 1, best first (ties keep the sweep's order)."""
        return sorted((r for r in self.table if not r.shared), key=lambda r: -r.test_acc)

    def row(self, key: str, *, shared: bool = False) -> SweepRow:
        return next(r for r in self.table if r.key == key and r.shared == shared)

    def frame(self):
        """Stage 1 as a pandas DataFrame, separate weights first, best first."""
        import pandas as pd

        df = pd.DataFrame([{"name": r.name, "shared": r.shared, "test_acc": round(100 * r.test_acc, 2),
                            "train_loss": r.train_loss, "seconds": r.seconds} for r in self.table])
        return df.sort_values(["shared", "test_acc"], ascending=[True, False], kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        """Both stages and the checks in four lines (the notebook's checked output)."""
        s2, rival = self.stage2.test_acc, self.stage2.runner_up
        return "\n".join(
            [f"stage 1: chosen {100 * self.chosen_acc:.1f} %, baseline {100 * self.baseline_acc:.1f} %, "
             f"best: {self.row(self.best).name}",
             f"stage 2: chosen {100 * s2['chosen']:.2f} %, {self.row(rival).name}: {100 * s2[rival]:.2f} %"]
            + [f"{text}: {ok}" for text, ok in self.checks()])

    def checks(self) -> list[tuple[str, bool]]:
        """The sweep's two checks: the chosen regime beats the baseline on the short budget, and is
        at least as good as its rival at full length (0.1-point tolerance)."""
        s2 = self.stage2.test_acc
        return [("chosen beats the baseline in stage 1", self.chosen_acc > self.baseline_acc),
                ("chosen at least as good as its rival at full length (0.1-point tolerance)",
                 s2["chosen"] >= s2[self.stage2.runner_up] - 0.001)]


def regime_sweep(exp: Setup, *, progress: bool = False, log=print) -> RegimeSweep:
    """Stage 1: every variant of :func:`resdyn.experiment.regime_variants` on ``exp.sweep_budget``;
    stage 2: the chosen regime and the best other separate-weights variant with all samples for the
    regime's epochs (the chosen one is notebook 01's separate net)."""
    n_train, epochs = exp.sweep_budget
    variants = regime_variants()
    rows = []
    for v in variants:
        result, data = train_variant(exp, v, n_train=n_train, epochs=epochs, progress=progress)
        rows.append(_sweep_row(v, result, data))
        log(f"{rows[-1].test_acc:.4f}  {'shared  ' if v.shared else 'separate'}  {v.name}  ({result.seconds:.0f} s)")
    ranked = sorted((r for r in rows if not r.shared), key=lambda r: -r.test_acc)
    runner_up = next(r.key for r in ranked if r.key != "chosen")
    full = exp.train_config.epochs
    by_key = {v.key: v for v in variants if not v.shared}
    stage2 = {k: train_variant(exp, by_key[k], n_train=None, epochs=full, progress=progress)[0]
              for k in ("chosen", runner_up)}
    for k, r in stage2.items():
        log(f"{by_key[k].name:45s} {full} epochs, all {len(exp.data.train)} samples: test accuracy {r.test_acc:.4f}")
    return RegimeSweep(
        n_train=n_train or len(exp.data.train), epochs=epochs, chosen=exp.regime.settings(), table=rows,
        best=ranked[0].key, chosen_rank=1 + [r.key for r in ranked].index("chosen"),
        chosen_acc=next(r.test_acc for r in ranked if r.key == "chosen"),
        baseline_acc=next(r.test_acc for r in ranked if r.key == "baseline"),
        stage2=Stage2(epochs=full, runner_up=runner_up, test_acc={k: r.test_acc for k, r in stage2.items()},
                      seconds={k: r.seconds for k, r in stage2.items()}),
    )


def _sweep_row(v, result: FitResult, data) -> SweepRow:
    m, t = result.model.config, result.config
    return SweepRow(key=v.key, name=v.name, shared=v.shared, scaling=data.scaling, init_scale=m.init_scale,
                    init_bias=m.init_bias, optimizer=t.optimizer, lr=t.lr, schedule=t.schedule,
                    batch_size=t.batch_size, test_acc=result.test_acc, train_loss=result.history[-1].loss,
                    seconds=result.seconds)


# ----------------------------------------------------------------------------------------------
# 01: Fig. 1A and 1B


@dataclass(frozen=True)
class ResidualProfile:
    """Fig. 1A/1B statistics of one net on the analysis samples, averaged over classes and neurons.

    std_profile: (T,) across-sample std of the residuals per layer (Fig. 1B);
    change_profile: (T-1,) change of the class-mean residual from layer t to t+1 (Fig. 1A);
    std_layer, mean_layer: :func:`resdyn.dynamics.settling_layer` of each (None: never settles);
    std_peak_layer: the layer (1-based) of the std's peak."""

    std_profile: list[float]
    change_profile: list[float]
    std_layer: int | None
    mean_layer: int | None
    std_peak_layer: int


@dataclass(frozen=True)
class BaselineNet:
    """A net of the naive baseline regime (notebook 00, stage 1) and its settling layers."""

    test_acc: float
    mean_layer: int | None
    std_layer: int | None
    std_profile: list[float]


@dataclass(frozen=True)
class Fig1AB:
    """Section ``fig1ab``: the two 15-layer nets, their residual statistics, the baseline nets.

    ``class_stats`` (not saved): :class:`resdyn.dynamics.ClassResidualStats` per net, for the figures."""

    depth: int
    epochs: int
    n_per_class: int
    seed: int
    nets: dict[str, TrainedNet]
    profiles: dict[str, ResidualProfile]
    baseline: dict[str, BaselineNet]
    class_stats: dict | None = _unsaved()


def residual_profile(model: DenseResNet, split: Split):
    """The class statistics of ``model``'s residuals on ``split`` and their :class:`ResidualProfile`."""
    traj = collect_trajectory(model, split.x)
    s = class_residual_stats(traj.residuals, split.y)
    profile = ResidualProfile(std_profile=s.std_profile.tolist(), change_profile=s.change_profile.tolist(),
                              std_layer=settling_layer(s.std_profile), mean_layer=settling_layer(s.change_profile),
                              std_peak_layer=int(s.std_profile.argmax()) + 1)
    return s, profile


def trained_nets(exp: Setup) -> dict[str, FitResult]:
    """The two 15-layer nets of the regime (separate and shared weights), trained or from the cache."""
    return {net: exp.train(shared=(net == "shared")) for net in NETS}


def fig1ab(exp: Setup) -> Fig1AB:
    """Train (or load) both 15-layer nets, compute the Fig. 1A/1B statistics on ``exp.samples()``,
    and the same for the naive baseline nets of notebook 00's stage 1."""
    nets = trained_nets(exp)
    samples = exp.samples()
    stats, profiles = {}, {}
    for net in NETS:
        stats[net], profiles[net] = residual_profile(nets[net].model, samples)
    n_train, epochs = exp.sweep_budget
    baseline = {}
    for v in regime_variants():
        if v.key == "baseline":
            result, data = train_variant(exp, v, n_train=n_train, epochs=epochs)
            _, p = residual_profile(result.model, balanced_subset(data.test, exp.n_per_class, seed=exp.seed))
            baseline["shared" if v.shared else "separate"] = BaselineNet(
                test_acc=result.test_acc, mean_layer=p.mean_layer, std_layer=p.std_layer, std_profile=p.std_profile)
    return Fig1AB(depth=exp.depth, epochs=exp.train_config.epochs, n_per_class=exp.n_per_class, seed=exp.seed,
                  nets={net: TrainedNet.of(nets[net]) for net in NETS}, profiles=profiles, baseline=baseline,
                  class_stats=stats)


# ----------------------------------------------------------------------------------------------
# 02: Fig. 1C


@dataclass(frozen=True)
class Fig1C:
    """Section ``fig1c``: within/between-class distances of whole residual trajectories (T x N values).

    ratio, within, between: per net, (C,) per class; class_mean: per net, (C, C).
    ``distances`` (not saved): :class:`resdyn.dynamics.TrajectoryDistances` per net, for the figure."""

    classes: list[int]
    n_samples: int
    trajectory_length: int
    ratio: dict[str, list[float]]
    within: dict[str, list[float]]
    between: dict[str, list[float]]
    class_mean: dict[str, list[list[float]]]
    distances: dict | None = _unsaved()


def fig1c(exp: Setup) -> Fig1C:
    """Trajectory distances of both 15-layer nets on ``exp.samples()``."""
    samples, nets = exp.samples(), trained_nets(exp)
    dist = {net: trajectory_distances(collect_trajectory(nets[net].model, samples.x).residuals, samples.y)
            for net in NETS}
    return Fig1C(classes=dist["separate"].classes.tolist(), n_samples=len(samples.y),
                 trajectory_length=exp.depth * exp.data.n_features,
                 ratio={n: d.ratio.tolist() for n, d in dist.items()},
                 within={n: d.within.tolist() for n, d in dist.items()},
                 between={n: d.between.tolist() for n, d in dist.items()},
                 class_mean={n: d.class_mean.tolist() for n, d in dist.items()}, distances=dist)


# ----------------------------------------------------------------------------------------------
# 03: Fig. 1D


@dataclass(frozen=True)
class Separation:
    knn_accuracy: float
    silhouette: float
    k: int


@dataclass(frozen=True)
class Fig1D:
    """Section ``fig1d``: t-SNE of x(T) per net and how well its classes separate.

    ``embeddings`` (not saved): (n, 2) per net; ``labels`` (not saved): (n,)."""

    separation: dict[str, Separation]
    perplexity: float
    seed: int
    seconds: dict[str, float]
    embeddings: dict | None = _unsaved()
    labels: Any = _unsaved()


def fig1d(exp: Setup, *, perplexity: float = 30.0) -> Fig1D:
    """openTSNE of x(T) of ``exp.samples()`` for both nets, with kNN accuracy and silhouette."""
    samples, nets = exp.samples(), trained_nets(exp)
    emb, sep, secs = {}, {}, {}
    for net in NETS:
        x_T = collect_trajectory(nets[net].model, samples.x).states[:, -1]  # (samples, N): x(T), before the read-out
        t0 = time.perf_counter()
        emb[net] = tsne_embedding(x_T, seed=exp.seed, perplexity=perplexity, n_jobs=1)
        secs[net] = time.perf_counter() - t0
        s = cluster_separation(emb[net], samples.y, k=10, seed=exp.seed)
        sep[net] = Separation(knn_accuracy=s.knn_accuracy, silhouette=s.silhouette, k=s.k)
    return Fig1D(separation=sep, perplexity=perplexity, seed=exp.seed, seconds=secs, embeddings=emb,
                 labels=samples.y)


# ----------------------------------------------------------------------------------------------
# 04: adaptive depth


@dataclass(frozen=True)
class AdaptiveNet:
    """One adaptive-depth run and the unpruned net trained the same way.

    criterion_always_below / criterion_never_below: the criterion was under / never under the
    threshold at every check (the first means the final depth is set by the number of epochs)."""

    initial_depth: int
    final_depth: int
    test_acc: float
    full_test_acc: float
    train_seconds: float
    full_train_seconds: float
    epochs: int
    criterion_always_below: bool
    criterion_never_below: bool
    history: list[dict]
    pruning: list[dict]


@dataclass(frozen=True)
class Scratch:
    """The control: a shared-weights net of the adaptive run's final depth, trained from scratch."""

    depth: int
    test_acc: float
    train_seconds: float


@dataclass(frozen=True)
class LesionRow:
    """The trained unpruned shared net cut to ``depth`` without retraining, plain and with the removed
    layers' mean residual folded into the read-out bias."""

    depth: int
    test_acc: float
    test_acc_folded: float


@dataclass(frozen=True)
class AdaptiveDepth:
    """Section ``adaptive``: the paper's algorithm on both kinds of weights, the from-scratch control
    and the lesion check."""

    threshold: float
    probe_size: int
    seed: int
    nets: dict[str, AdaptiveNet]
    scratch: Scratch
    lesion: list[LesionRow]


def adaptive_depth(exp: Setup, *, log=print) -> AdaptiveDepth:
    """Adaptive-depth training for both kinds of weights, the final depth from scratch (shared), and
    the lesion of the unpruned shared net."""
    nets = {}
    full = trained_nets(exp)
    for net in NETS:
        a = exp.train(shared=(net == "shared"), adaptive=True)
        log(f"{net:8s}: depth {exp.depth} -> {a.model.depth}, test accuracy {a.test_acc:.4f} "
            f"(unpruned: {full[net].test_acc:.4f})")
        nets[net] = AdaptiveNet(
            initial_depth=exp.depth, final_depth=a.model.depth, test_acc=a.test_acc,
            full_test_acc=full[net].test_acc, train_seconds=a.seconds, full_train_seconds=full[net].seconds,
            epochs=len(a.history), criterion_always_below=all(r.criterion < exp.threshold for r in a.history),
            criterion_never_below=all(r.criterion >= exp.threshold for r in a.history),
            history=[asdict(r) for r in a.history], pruning=[p.to_dict() for p in a.pruning])
    final_depth = nets["shared"].final_depth
    scratch = train_or_load(exp.data, exp.model_config(shared=True, depth=final_depth), exp.train_config)
    probe = probe_set(exp.data.train, exp.adaptive_config(), seed=exp.seed)
    return AdaptiveDepth(threshold=exp.threshold, probe_size=exp.probe_size, seed=exp.seed, nets=nets,
                         scratch=Scratch(depth=final_depth, test_acc=scratch.test_acc, train_seconds=scratch.seconds),
                         lesion=lesion(full["shared"].model, exp.data.test, probe))


def lesion(model: DenseResNet, test: Split, probe: torch.Tensor) -> list[LesionRow]:
    """``model`` cut to every depth 1..T without retraining: test accuracy plain and with the removed
    residuals' mean on ``probe`` folded into the read-out bias."""
    rows = []
    for d in range(1, model.depth + 1):
        if d == model.depth:
            acc = acc_f = accuracy(model, test)
        else:
            cut, _ = remove_last_layers(model, model.depth - d)
            folded, _ = remove_last_layers(model, model.depth - d, fold_probe=probe)
            acc, acc_f = accuracy(cut, test), accuracy(folded, test)
        rows.append(LesionRow(depth=d, test_acc=acc, test_acc_folded=acc_f))
    return rows
