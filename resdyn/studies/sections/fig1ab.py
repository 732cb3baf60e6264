"""Fig. 1A and 1B (notebook 01): class means and across-sample spread of the residuals per layer.

The steps, as notebook 01 runs them: :func:`nets` (the nets, the samples and the baseline nets, one
call), per net :func:`resdyn.core.dynamics.collect_trajectory`, :func:`resdyn.core.dynamics.class_residual_stats`
and :func:`resdyn.lib.mechanism.mechanism`, :func:`baseline_net` and :func:`input_spread`, then
:func:`record`. :func:`measure` composes them for any nets and samples; :func:`run` gets them from a
:class:`resdyn.studies.experiment.Setup`. :func:`net_dynamics` is the per-net statistic the studies reuse
(notebooks 06-07).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from resdyn.core import claims
from resdyn.core.claims import NETS, PAPER_SCALE, SETTLING_FRACTION
from resdyn.core.data import Split, balanced_subset
from resdyn.core.dynamics import ClassResidualStats, class_residual_stats, collect_trajectory, settling_layer
from resdyn.studies.markdown import never, pct, table
from resdyn.lib.mechanism import Mechanism, mechanism
from resdyn.core.model import DenseResNet
from resdyn.studies.regimes import regime_variants
from resdyn.core.train import FitResult
from resdyn.studies.sections.common import PaperNets, TrainedNet, of_kind, paper_nets, unsaved

#: The fractions of the peak of the sensitivity curve (the rules' own fraction is among them).
SENSITIVITY_FRACTIONS = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2)
#: Samples per forward pass of a trajectory: fixed, since other batch sizes round the products
#: differently (resdyn.core.dynamics.collect_trajectory's default).
BATCH = 1000
#: The deep layers the mechanism numbers average over: from the paper's settling layer plus one.
DEEP = claims.SETTLING_BY_LAYER


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
    std_layer, mean_layer: :func:`resdyn.core.dynamics.settling_layer` at 5 % of the peak (None: never);
    std_peak_layer: the layer (1-based) of the std's peak; sensitivity: other rules."""

    std_profile: list[float]
    change_profile: list[float]
    std_layer: int | None
    mean_layer: int | None
    std_peak_layer: int
    sensitivity: Sensitivity


@dataclass(frozen=True)
class LayerMechanism:
    """:class:`resdyn.lib.mechanism.Mechanism` as lists, (T,) each, entry t-1 for layer t."""

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
    class_stats: dict | None = unsaved()

    SECTION: ClassVar[str] = "fig1ab"

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

    def mechanism_frame(self, *, from_layer: int = DEEP):
        """Each mechanism quantity averaged over layers ``from_layer``..T, per net (columns)."""
        import pandas as pd

        nets = {f"{n} {kind}": getattr(self, kind)[n] for n in NETS for kind in ("trained", "untrained")}
        nets.update({f"{n} baseline": b.dynamics for n, b in self.baseline.items()})
        return pd.DataFrame({name: {k: sum(v[from_layer - 1:]) / len(v[from_layer - 1:])
                                    for k, v in vars(d.mechanism).items()} for name, d in nets.items()})


def residual_profile(stats) -> ResidualProfile:
    """The :class:`ResidualProfile` of a :class:`resdyn.core.dynamics.ClassResidualStats`."""
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


@dataclass(frozen=True)
class Nets(PaperNets):
    """:class:`resdyn.studies.sections.common.PaperNets` and the naive baseline regime's nets (notebook 00,
    stage 1), each with its own analysis split, keyed by the kind of weights."""

    baseline: dict[str, tuple[FitResult, Split]] = field(default_factory=dict)


def nets(exp) -> Nets:
    """Both 15-layer nets (trained, or from the cache), their untrained twins, the analysis samples,
    and the baseline nets of notebook 00's stage 1 (its short budget)."""
    paper = paper_nets(exp)
    n_train, epochs = exp.sweep_budget
    base = [v for v in regime_variants() if v.key == "baseline"]
    results = exp.train(*(exp.job(shared=v.shared, variant=v, n_train=n_train, epochs=epochs) for v in base))
    baseline = {("shared" if v.shared else "separate"):
                (r, balanced_subset(exp.dataset(v.scaling).test, exp.n_per_class, seed=exp.seed))
                for v, r in zip(base, results)}
    return Nets(**vars(paper), baseline=baseline)


def net_dynamics(model: DenseResNet, split: Split) -> tuple:
    """(class statistics, :class:`NetDynamics`) of ``model`` on ``split``."""
    stats = class_residual_stats(collect_trajectory(model, split.x, batch_size=BATCH).residuals, split.y)
    return stats, dynamics_of(stats, mechanism(model, split.x))


def dynamics_of(stats: ClassResidualStats, m: Mechanism) -> NetDynamics:
    """:class:`NetDynamics` of a net's class statistics and mechanism."""
    return NetDynamics(profile=residual_profile(stats),
                       mechanism=LayerMechanism(**{k: v.tolist() for k, v in vars(m).items()}))


def baseline_net(result: FitResult, split: Split) -> BaselineNet:
    """A baseline net's validation accuracy and :func:`net_dynamics` on its analysis ``split``."""
    return BaselineNet(val_acc=result.val_acc, dynamics=net_dynamics(result.model, split)[1])


def input_spread(samples: Split) -> float:
    """The raw input's across-sample std, averaged over classes and pixels: x(0) as one layer."""
    return float(class_residual_stats(samples.x[:, None, :], samples.y).std_profile[0])


def record(nets: dict[str, FitResult], stats: dict[str, ClassResidualStats], mechanisms: dict[str, Mechanism], *,
           baseline: dict[str, BaselineNet], input_std: float, n_per_class: int, seed: int) -> Fig1AB:
    """The record of the trained ``nets``, from the class statistics and mechanisms of each net keyed
    "trained/<net>" and "untrained/<net>", the baseline nets and the raw input's spread."""
    dyn = {key: dynamics_of(stats[key], mechanisms[key]) for key in stats}
    first = next(iter(nets.values()))
    return Fig1AB(depth=first.model.depth, epochs=first.config.epochs, n_per_class=n_per_class, seed=seed,
                  nets={net: TrainedNet.of(r) for net, r in nets.items()}, trained=of_kind(dyn, "trained"),
                  untrained=of_kind(dyn, "untrained"), input_std=input_std, baseline=baseline,
                  class_stats=of_kind(stats, "trained"))


def measure(nets: dict[str, FitResult], untrained: dict[str, DenseResNet], samples: Split, *,
            baseline: dict[str, tuple[FitResult, Split]], n_per_class: int, seed: int) -> Fig1AB:
    """The Fig. 1A/1B statistics of trained ``nets`` and their ``untrained`` twins on ``samples``,
    the raw input's spread, and the ``baseline`` nets (each with its own analysis split)."""
    models = {f"trained/{n}": r.model for n, r in nets.items()} | {f"untrained/{n}": m for n, m in untrained.items()}
    stats = {k: class_residual_stats(collect_trajectory(m, samples.x, batch_size=BATCH).residuals, samples.y)
             for k, m in models.items()}
    return record(nets, stats, {k: mechanism(m, samples.x) for k, m in models.items()},
                  baseline={net: baseline_net(r, split) for net, (r, split) in baseline.items()},
                  input_std=input_spread(samples), n_per_class=n_per_class, seed=seed)


def run(exp) -> Fig1AB:
    """Train (or load) both 15-layer nets; the Fig. 1A/1B statistics on ``exp.samples()`` for them,
    for their untrained twins and for the naive baseline nets of notebook 00's stage 1."""
    n = nets(exp)
    return measure(n.fits, n.untrained, n.samples, baseline=n.baseline, n_per_class=exp.n_per_class, seed=exp.seed)


def verdicts(rec: Fig1AB) -> list[claims.Verdict]:
    """The accuracy and settling verdicts of the record, the settling judged on the rules' relative
    scale and on the paper's absolute one."""
    return claims.accuracy(rec) + claims.settling(rec) + claims.absolute_settling(rec)


def render(a: Fig1AB, link: str) -> str:
    """The report's section: the nets and where they settle; the report adds the figures."""
    out = ["## Fig. 1A and 1B: residual statistics per layer", ""]
    out.append(table(
        ["net", "test accuracy", "val accuracy", "precision", "train seconds", "class means settle after layer",
         f"std below {100 * SETTLING_FRACTION:g} % of peak from layer", "untrained: means / std"],
        [(net, pct(a.nets[net].test_acc), pct(a.nets[net].val_acc), a.nets[net].precision,
          f"{a.nets[net].train_seconds:.0f}", never(a.trained[net].profile.mean_layer),
          never(a.trained[net].profile.std_layer),
          f"{never(a.untrained[net].profile.mean_layer)} / {never(a.untrained[net].profile.std_layer)}") for net in NETS]))
    out += ["", f"Notebook: {link}. {a.n_per_class} test samples per class; profiles averaged over classes and neurons. The raw "
            f"input's across-sample std, for scale, is {a.input_std:.3f}. The notebook tabulates the profiles layer "
            f"by layer, the settling layer under other thresholds, and the deep layers' saturation and weights."]
    return "\n".join(out + [""])
