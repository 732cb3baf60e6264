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

Every claim is measured with its controls: the raw input x(0) and an untrained net of the same
configuration and seed (the initialization the trained net started from). Choices are made on the
validation split; a net's test accuracy is read once, after its training.

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
    mechanism,
    settling_layer,
    trajectory_distances,
    tsne_embedding,
)
from .experiment import NETS, Setup, regime_variants
from .model import DenseResNet
from .pruning import censored_depth, criterion_profile, probe_set, remove_last_layers, stop_depth
from .train import FitResult, accuracy

#: Field metadata: kept in memory for figures, not written to results.json.
NOT_SAVED = {"saved": False}
#: The settling rule's fraction of the peak (the verdict's, see resdyn.claims) and the fractions of
#: the sensitivity curve; the paper's own scale, 0.01 per neuron, as an absolute threshold.
SETTLING_FRACTION = 0.05
SENSITIVITY_FRACTIONS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
PAPER_SCALE = 0.01


def _unsaved():
    return field(default=None, metadata=NOT_SAVED, repr=False, compare=False)


@dataclass(frozen=True)
class TrainedNet:
    """One trained net: test accuracy (read once, after training), validation accuracy, precision,
    training time and per-epoch history (:class:`resdyn.train.EpochRecord` as dicts)."""

    test_acc: float
    val_acc: float
    precision: str
    train_seconds: float
    epochs: int
    history: list[dict]

    @classmethod
    def of(cls, result: FitResult) -> "TrainedNet":
        return cls(test_acc=result.test_acc, val_acc=result.val_acc, precision=result.config.precision,
                   train_seconds=result.seconds, epochs=len(result.history),
                   history=[asdict(r) for r in result.history])

    @property
    def epoch_seconds(self) -> list[float]:
        return [h["seconds"] for h in self.history]


def trained_nets(exp: Setup) -> dict[str, FitResult]:
    """The two 15-layer nets of the regime (separate and shared weights), trained or from the cache."""
    return dict(zip(NETS, exp.train(*(exp.job(shared=(net == "shared")) for net in NETS))))


def untrained_net(exp: Setup, net: str, *, depth: int | None = None) -> DenseResNet:
    """The control: the net of ``net``'s configuration and seed as initialized, before training."""
    return DenseResNet(exp.model_config(shared=(net == "shared"), depth=depth), seed=exp.seed)


# ----------------------------------------------------------------------------------------------
# 00: the training regime


@dataclass(frozen=True)
class SweepRow:
    """One trained variant of the sweep (``key`` and ``shared`` identify it; ``name`` is for display).
    Ranked by ``val_acc``, accuracy on the validation split."""

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
    val_acc: float
    train_loss: float
    seconds: float


@dataclass(frozen=True)
class Stage2:
    """The chosen regime and the best other separate-weights variant of stage 1, at full length
    (validation accuracy)."""

    epochs: int
    runner_up: str
    val_acc: dict[str, float]
    seconds: dict[str, float]


@dataclass(frozen=True)
class RegimeSweep:
    """Section ``regime``: stage 1 (every variant on a short budget) and stage 2 (full length), all
    judged on the validation split.

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

    def row(self, key: str, *, shared: bool = False) -> SweepRow:
        return next(r for r in self.table if r.key == key and r.shared == shared)

    def frame(self):
        """Stage 1 as a pandas DataFrame, separate weights first, best first."""
        import pandas as pd

        df = pd.DataFrame([{"name": r.name, "shared": r.shared, "val_acc": round(100 * r.val_acc, 2),
                            "train_loss": r.train_loss, "seconds": r.seconds} for r in self.table])
        return df.sort_values(["shared", "val_acc"], ascending=[True, False], kind="stable").reset_index(drop=True)

    def checks(self) -> list[tuple[str, bool]]:
        """The sweep's two checks on the validation split: the chosen regime beats the baseline on
        the short budget, and is at least as good as its rival at full length (0.1-point tolerance)."""
        s2 = self.stage2.val_acc
        return [("chosen beats the baseline in stage 1", self.chosen_acc > self.baseline_acc),
                ("chosen at least as good as its rival at full length (0.1-point tolerance)",
                 s2["chosen"] >= s2[self.stage2.runner_up] - 0.001)]

    def summary(self) -> str:
        """Both stages and the checks in four lines."""
        s2, rival = self.stage2.val_acc, self.stage2.runner_up
        return "\n".join(
            [f"stage 1 (validation): chosen {100 * self.chosen_acc:.1f} %, baseline {100 * self.baseline_acc:.1f} %, "
             f"best: {self.row(self.best).name}",
             f"stage 2 (validation): chosen {100 * s2['chosen']:.1f} %, {self.row(rival).name}: {100 * s2[rival]:.1f} %"]
            + [f"{text}: {ok}" for text, ok in self.checks()])


def regime_sweep(exp: Setup, *, log=print) -> RegimeSweep:
    """Stage 1: every variant of :func:`resdyn.experiment.regime_variants` on ``exp.sweep_budget``;
    stage 2: the chosen regime and the best other separate-weights variant of stage 1 with all
    training samples for the regime's epochs (the chosen one is notebook 01's separate net).
    Ranked on the validation split; the test set is not read."""
    n_train, epochs = exp.sweep_budget
    variants = regime_variants()
    results = exp.train(*(exp.job(shared=v.shared, variant=v, n_train=n_train, epochs=epochs) for v in variants))
    rows = [_sweep_row(v, r, exp) for v, r in zip(variants, results)]
    for row in rows:
        # no seconds here: the executed notebook must not change from run to run (they are in the record)
        log(f"{row.val_acc:.4f}  {'shared  ' if row.shared else 'separate'}  {row.name}")
    ranked = sorted((r for r in rows if not r.shared), key=lambda r: -r.val_acc)
    runner_up = next(r.key for r in ranked if r.key != "chosen")
    by_key = {v.key: v for v in variants if not v.shared}
    full = exp.train_config.epochs
    stage2 = dict(zip(("chosen", runner_up), exp.train(*(exp.job(shared=False, variant=by_key[k])
                                                          for k in ("chosen", runner_up)))))
    for k, r in stage2.items():
        log(f"{by_key[k].name:45s} {full} epochs, all {len(exp.data.train)} samples: validation accuracy {r.val_acc:.4f}")
    return RegimeSweep(
        n_train=n_train or len(exp.data.train), epochs=epochs, chosen=exp.regime.settings(), table=rows,
        best=ranked[0].key, chosen_rank=1 + [r.key for r in ranked].index("chosen"),
        chosen_acc=next(r.val_acc for r in ranked if r.key == "chosen"),
        baseline_acc=next(r.val_acc for r in ranked if r.key == "baseline"),
        stage2=Stage2(epochs=full, runner_up=runner_up, val_acc={k: r.val_acc for k, r in stage2.items()},
                      seconds={k: r.seconds for k, r in stage2.items()}),
    )


def _sweep_row(v, result: FitResult, exp: Setup) -> SweepRow:
    m, t = result.model.config, result.config
    return SweepRow(key=v.key, name=v.name, shared=v.shared, scaling=v.scaling or exp.regime.scaling,
                    init_scale=m.init_scale, init_bias=m.init_bias, optimizer=t.optimizer, lr=t.lr,
                    schedule=t.schedule, batch_size=t.batch_size, val_acc=result.val_acc,
                    train_loss=result.history[-1].loss, seconds=result.seconds)


# ----------------------------------------------------------------------------------------------
# 01: Fig. 1A and 1B


@dataclass(frozen=True)
class Sensitivity:
    """The settling layer under other rules: below ``fractions`` of the peak (one entry each), and
    below the paper's absolute scale ``absolute`` (0.01 per neuron). None: never settles."""

    fractions: list[float]
    std_layer: list[int | None]
    mean_layer: list[int | None]
    absolute: float
    std_layer_absolute: int | None
    mean_layer_absolute: int | None


@dataclass(frozen=True)
class ResidualProfile:
    """Fig. 1A/1B statistics of one net on the analysis samples, averaged over classes and neurons.

    std_profile: (T,) across-sample std of the residuals per layer (Fig. 1B);
    change_profile: (T-1,) change of the class-mean residual from layer t to t+1 (Fig. 1A);
    std_layer, mean_layer: :func:`resdyn.dynamics.settling_layer` at 5 % of the peak (None: never);
    std_peak_layer: the layer (1-based) of the std's peak; sensitivity: other rules."""

    std_profile: list[float]
    change_profile: list[float]
    std_layer: int | None
    mean_layer: int | None
    std_peak_layer: int
    sensitivity: Sensitivity


@dataclass(frozen=True)
class LayerMechanism:
    """:class:`resdyn.dynamics.Mechanism` as lists, (T,) each, entry t-1 for layer t."""

    saturated: list[float]
    slope: list[float]
    z_spread: list[float]
    z_offset: list[float]
    weight_norm: list[float]
    bias_mean: list[float]


@dataclass(frozen=True)
class NetDynamics:
    """One net's residual statistics and the mechanism behind them (on the analysis samples)."""

    profile: ResidualProfile
    mechanism: LayerMechanism


@dataclass(frozen=True)
class BaselineNet:
    """A net of the naive baseline regime (notebook 00, stage 1: short budget)."""

    val_acc: float
    dynamics: NetDynamics


@dataclass(frozen=True)
class Fig1AB:
    """Section ``fig1ab``: the two 15-layer nets, their residual statistics, and controls: the same
    statistics for the untrained nets; ``input_std``, the across-sample std of the raw input x(0)
    (averaged over classes and pixels: the scale the residuals' spread starts from); the naive
    baseline nets. ``class_stats`` (not saved): per net, for the figures."""

    depth: int
    epochs: int
    n_per_class: int
    seed: int
    nets: dict[str, TrainedNet]
    trained: dict[str, NetDynamics]
    untrained: dict[str, NetDynamics]
    input_std: float
    baseline: dict[str, BaselineNet]
    class_stats: dict | None = _unsaved()

    def sensitivity_frame(self):
        """The settling layer of every net under every rule (rows: Fig. 1A/1B x net x trained or
        untrained; columns: fractions of the peak and the paper's absolute scale) as a DataFrame."""
        import pandas as pd

        rows = {}
        for net in NETS:
            for kind in ("trained", "untrained"):
                s = getattr(self, kind)[net].profile.sensitivity
                rows[f"1A {net} {kind}"] = s.mean_layer + [s.mean_layer_absolute]
                rows[f"1B {net} {kind}"] = s.std_layer + [s.std_layer_absolute]
        s = self.trained["separate"].profile.sensitivity
        return pd.DataFrame(rows, index=[f"{f:.1%} of peak" for f in s.fractions] + [f"below {s.absolute}"]).T

    def mechanism_frame(self, *, from_layer: int = 7):
        """Each mechanism quantity averaged over layers ``from_layer``..T, per net (columns)."""
        import pandas as pd

        nets = {f"{n} {kind}": getattr(self, kind)[n] for n in NETS for kind in ("trained", "untrained")}
        nets.update({f"{n} baseline": b.dynamics for n, b in self.baseline.items()})
        return pd.DataFrame({name: {k: sum(v[from_layer - 1:]) / len(v[from_layer - 1:])
                                    for k, v in vars(d.mechanism).items()} for name, d in nets.items()})


def residual_profile(stats) -> ResidualProfile:
    """The :class:`ResidualProfile` of a :class:`resdyn.dynamics.ClassResidualStats`."""
    std, change = stats.std_profile, stats.change_profile
    return ResidualProfile(
        std_profile=std.tolist(), change_profile=change.tolist(),
        std_layer=settling_layer(std, fraction=SETTLING_FRACTION),
        mean_layer=settling_layer(change, fraction=SETTLING_FRACTION), std_peak_layer=int(std.argmax()) + 1,
        sensitivity=Sensitivity(
            fractions=list(SENSITIVITY_FRACTIONS),
            std_layer=[settling_layer(std, fraction=f) for f in SENSITIVITY_FRACTIONS],
            mean_layer=[settling_layer(change, fraction=f) for f in SENSITIVITY_FRACTIONS],
            absolute=PAPER_SCALE, std_layer_absolute=settling_layer(std, absolute=PAPER_SCALE),
            mean_layer_absolute=settling_layer(change, absolute=PAPER_SCALE)))


def net_dynamics(model: DenseResNet, split: Split):
    """(class statistics, :class:`NetDynamics`) of ``model`` on ``split``."""
    stats = class_residual_stats(collect_trajectory(model, split.x).residuals, split.y)
    m = mechanism(model, split.x)
    return stats, NetDynamics(profile=residual_profile(stats),
                              mechanism=LayerMechanism(**{k: v.tolist() for k, v in vars(m).items()}))


def fig1ab(exp: Setup) -> Fig1AB:
    """Train (or load) both 15-layer nets; the Fig. 1A/1B statistics on ``exp.samples()`` for them,
    for their untrained twins and for the naive baseline nets of notebook 00's stage 1."""
    nets = trained_nets(exp)
    samples = exp.samples()
    stats, trained, untrained = {}, {}, {}
    for net in NETS:
        stats[net], trained[net] = net_dynamics(nets[net].model, samples)
        _, untrained[net] = net_dynamics(untrained_net(exp, net), samples)
    input_std = float(class_residual_stats(samples.x[:, None, :], samples.y).std_profile[0])
    n_train, epochs = exp.sweep_budget
    base = [v for v in regime_variants() if v.key == "baseline"]
    results = exp.train(*(exp.job(shared=v.shared, variant=v, n_train=n_train, epochs=epochs) for v in base))
    baseline = {}
    for v, r in zip(base, results):
        test = exp.dataset(v.scaling).test
        _, dyn = net_dynamics(r.model, balanced_subset(test, exp.n_per_class, seed=exp.seed))
        baseline["shared" if v.shared else "separate"] = BaselineNet(val_acc=r.val_acc, dynamics=dyn)
    return Fig1AB(depth=exp.depth, epochs=exp.train_config.epochs, n_per_class=exp.n_per_class, seed=exp.seed,
                  nets={net: TrainedNet.of(nets[net]) for net in NETS}, trained=trained, untrained=untrained,
                  input_std=input_std, baseline=baseline, class_stats=stats)


# ----------------------------------------------------------------------------------------------
# 02: Fig. 1C


@dataclass(frozen=True)
class DistanceSummary:
    """Within/between-class distances of one set of trajectories: per class (C,) ratio, within and
    between; class_mean (C, C)."""

    ratio: list[float]
    within: list[float]
    between: list[float]
    class_mean: list[list[float]]

    @classmethod
    def of(cls, d) -> "DistanceSummary":
        return cls(ratio=d.ratio.tolist(), within=d.within.tolist(), between=d.between.tolist(),
                   class_mean=d.class_mean.tolist())

    @property
    def mean_ratio(self) -> float:
        return sum(self.ratio) / len(self.ratio)


@dataclass(frozen=True)
class Fig1C:
    """Section ``fig1c``: l2 distances of whole residual trajectories (T x N values) of the trained
    nets, and the controls: the untrained nets' residual trajectories and the raw inputs x(0)
    (N values). ``distances`` (not saved): :class:`resdyn.dynamics.TrajectoryDistances` per net."""

    classes: list[int]
    n_samples: int
    trajectory_length: int
    trained: dict[str, DistanceSummary]
    untrained: dict[str, DistanceSummary]
    raw: DistanceSummary
    distances: dict | None = _unsaved()


def fig1c(exp: Setup) -> Fig1C:
    """Trajectory distances of both 15-layer nets, their untrained twins and the raw inputs."""
    samples, nets = exp.samples(), trained_nets(exp)

    def distances(model):
        return trajectory_distances(collect_trajectory(model, samples.x).residuals, samples.y)

    trained = {net: distances(nets[net].model) for net in NETS}
    raw = trajectory_distances(samples.x[:, None, :], samples.y)
    return Fig1C(classes=raw.classes.tolist(), n_samples=len(samples.y),
                 trajectory_length=exp.depth * exp.data.n_features,
                 trained={n: DistanceSummary.of(d) for n, d in trained.items()},
                 untrained={n: DistanceSummary.of(distances(untrained_net(exp, n))) for n in NETS},
                 raw=DistanceSummary.of(raw), distances=trained)


# ----------------------------------------------------------------------------------------------
# 03: Fig. 1D


@dataclass(frozen=True)
class Separation:
    """How well classes separate in a 2-D embedding: kNN accuracy (k neighbours, 5-fold) and silhouette."""

    knn_accuracy: float
    silhouette: float
    k: int


@dataclass(frozen=True)
class Fig1D:
    """Section ``fig1d``: t-SNE of x(T) of the trained nets, and of the controls: x(T) of the
    untrained nets and the raw input x(0); also the trained nets' own contribution to x(T),
    sum_t y(t) = x(T) - x(0) (``residual_sum``). ``embeddings`` (not saved): (n, 2) per input,
    keyed like ``inputs()``; ``labels`` (not saved)."""

    perplexity: float
    seed: int
    trained: dict[str, Separation]
    residual_sum: dict[str, Separation]
    untrained: dict[str, Separation]
    raw: Separation
    seconds: float
    embeddings: dict | None = _unsaved()
    labels: Any = _unsaved()


def fig1d(exp: Setup, *, perplexity: float = 30.0) -> Fig1D:
    """openTSNE (seeded, one thread each, side by side) of x(T), sum y and the controls, with kNN
    accuracy and silhouette of each embedding."""
    from joblib import Parallel, delayed

    samples, nets = exp.samples(), trained_nets(exp)
    inputs = {"raw": samples.x}
    for net in NETS:
        states = collect_trajectory(nets[net].model, samples.x).states
        inputs[f"trained/{net}"] = states[:, -1].clone()  # x(T), before the read-out
        inputs[f"residual_sum/{net}"] = states[:, -1] - states[:, 0]
        inputs[f"untrained/{net}"] = collect_trajectory(untrained_net(exp, net), samples.x).states[:, -1].clone()
    t0 = time.perf_counter()
    embedded = Parallel(n_jobs=min(len(inputs), exp.workers))(
        delayed(tsne_embedding)(x, seed=exp.seed, perplexity=perplexity, n_jobs=1) for x in inputs.values())
    seconds = time.perf_counter() - t0
    emb = dict(zip(inputs, embedded))
    sep = {}
    for name, e in emb.items():
        s = cluster_separation(e, samples.y, k=10, seed=exp.seed)
        sep[name] = Separation(knn_accuracy=s.knn_accuracy, silhouette=s.silhouette, k=s.k)
    pick = lambda kind: {net: sep[f"{kind}/{net}"] for net in NETS}  # noqa: E731
    return Fig1D(perplexity=perplexity, seed=exp.seed, trained=pick("trained"), residual_sum=pick("residual_sum"),
                 untrained=pick("untrained"), raw=sep["raw"], seconds=seconds, embeddings=emb, labels=samples.y)


# ----------------------------------------------------------------------------------------------
# 04: adaptive depth


@dataclass(frozen=True)
class AdaptiveNet:
    """One adaptive-depth run and the unpruned net trained the same way.

    initial_criterion: before training; history[i]["criterion"]: after epoch i+1 (no removal after
    the last). always_below: the criterion was under the threshold at every check, so a layer went
    at every check and the depth was set by the number of epochs; censored: the run ended while
    the rule was still removing (the criterion after the last epoch, or at every check, under the
    threshold), so the final depth is not where the dynamics stop pruning."""

    initial_depth: int
    final_depth: int
    test_acc: float
    val_acc: float
    full_test_acc: float
    train_seconds: float
    full_train_seconds: float
    epochs: int
    initial_criterion: float
    always_below: bool
    censored: bool
    history: list[dict]
    pruning: list[dict]


@dataclass(frozen=True)
class CriterionProfile:
    """The criterion between every pair of successive layers of a trained 15-layer net, c(t) for
    t = 2..T (entry t-2), on the probe set; ``stop_depth``: where repeated checks would stop."""

    criterion: list[float]
    stop_depth: int


@dataclass(frozen=True)
class Scratch:
    """The control: a shared-weights net of the adaptive run's final depth, trained from scratch."""

    depth: int
    test_acc: float
    val_acc: float
    train_seconds: float


@dataclass(frozen=True)
class LesionRow:
    """The trained unpruned shared net cut to ``depth`` without retraining, plain and with the removed
    layers' mean residual folded into the read-out bias (validation accuracy)."""

    depth: int
    val_acc: float
    val_acc_folded: float


@dataclass(frozen=True)
class AdaptiveDepth:
    """Section ``adaptive``: the paper's algorithm on both kinds of weights, the criterion profile of
    the trained 15-layer nets, the from-scratch control and the lesion check."""

    threshold: float
    probe_size: int
    seed: int
    nets: dict[str, AdaptiveNet]
    profiles: dict[str, CriterionProfile]
    scratch: Scratch
    lesion: list[LesionRow]


def adaptive_net(a: FitResult, full: FitResult, threshold: float, min_depth: int) -> AdaptiveNet:
    """:class:`AdaptiveNet` of adaptive run ``a`` and the unpruned net ``full``."""
    always, censored = censored_depth([r.criterion for r in a.history], threshold, min_depth, a.model.depth)
    return AdaptiveNet(initial_depth=full.model.depth, final_depth=a.model.depth, test_acc=a.test_acc,
                       val_acc=a.val_acc, full_test_acc=full.test_acc, train_seconds=a.seconds,
                       full_train_seconds=full.seconds, epochs=len(a.history), initial_criterion=a.initial_criterion,
                       always_below=always, censored=censored, history=[asdict(r) for r in a.history],
                       pruning=[p.to_dict() for p in a.pruning])


def adaptive_depth(exp: Setup, *, log=print) -> AdaptiveDepth:
    """Adaptive-depth training for both kinds of weights, the criterion profile of the unpruned
    nets, the final depth trained from scratch (shared), and the lesion of the unpruned shared net."""
    full = trained_nets(exp)
    runs = dict(zip(NETS, exp.train(*(exp.job(shared=(net == "shared"), adaptive=True) for net in NETS))))
    cfg = exp.adaptive_config()
    nets = {net: adaptive_net(runs[net], full[net], exp.threshold, cfg.min_depth) for net in NETS}
    for net, a in nets.items():
        log(f"{net:8s}: depth {a.initial_depth} -> {a.final_depth}{' (censored)' if a.censored else ''}, "
            f"test accuracy {a.test_acc:.4f} (unpruned: {a.full_test_acc:.4f})")
    probe = probe_set(exp.data.train, cfg, seed=exp.seed)
    profiles = {}
    for net in NETS:
        c = criterion_profile(full[net].model, probe)
        profiles[net] = CriterionProfile(criterion=c.tolist(), stop_depth=stop_depth(c, cfg))
    scratch = exp.net(shared=True, depth=nets["shared"].final_depth)
    return AdaptiveDepth(threshold=exp.threshold, probe_size=exp.probe_size, seed=exp.seed, nets=nets,
                         profiles=profiles,
                         scratch=Scratch(depth=scratch.model.depth, test_acc=scratch.test_acc, val_acc=scratch.val_acc,
                                         train_seconds=scratch.seconds),
                         lesion=lesion(full["shared"].model, exp.data.val, probe))


def lesion(model: DenseResNet, split: Split, probe: torch.Tensor) -> list[LesionRow]:
    """``model`` cut to every depth 1..T without retraining: accuracy on ``split`` (validation)
    plain and with the removed residuals' mean on ``probe`` folded into the read-out bias."""
    rows = []
    for d in range(1, model.depth + 1):
        if d == model.depth:
            acc = acc_f = accuracy(model, split)
        else:
            cut, _ = remove_last_layers(model, model.depth - d)
            folded, _ = remove_last_layers(model, model.depth - d, fold_probe=probe)
            acc, acc_f = accuracy(cut, split), accuracy(folded, split)
        rows.append(LesionRow(depth=d, val_acc=acc, val_acc_folded=acc_f))
    return rows
