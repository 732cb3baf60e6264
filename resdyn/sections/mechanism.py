"""Why the residuals settle (notebook 06): saturation of the deep sigmoid units or shrinking weights?

Every trained net of the paper run and the paper-like regime is measured on its analysis samples
(:func:`resdyn.sections.fig1ab.net_dynamics`); across the nets, the association rule
(:data:`resdyn.claims.ASSOCIATION`) names what goes with settling. Core: :func:`measure` takes a
list of :class:`MapNet` (any model with a DenseResNet-like trajectory and its samples).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .. import claims
from ..claims import NETS
from ..data import Split, balanced_subset
from ..experiment import DEPTH, candidate_job, paper_jobs
from ..markdown import never, pct, table
from ..regimes import PAPER_LIKE, regime_variants
from ..train import FitResult
from .common import TrainedNet, trained_nets, untrained_net
from .fig1ab import DEEP, NetDynamics, net_dynamics


@dataclass(frozen=True)
class NetPoint:
    """One trained net on the regime map: its accuracy, when it settles, and the mechanism in its
    deep layers (layers :data:`DEEP` and later, averaged): saturated fraction, sigmoid slope,
    across-sample spread of z, and the Frobenius norm of W relative to layer 1's."""

    key: str
    name: str
    shared: bool
    group: str
    val_acc: float | None
    test_acc: float | None
    std_layer: int | None
    mean_layer: int | None
    std_layer_absolute: int | None
    deep_std_ratio: float
    saturation: float
    slope: float
    z_spread: float
    weight_ratio: float


def net_point(key: str, name: str, shared: bool, group: str, dyn, *, val_acc: float | None,
              test_acc: float | None) -> NetPoint:
    """A :class:`NetPoint` from a net's :class:`resdyn.sections.fig1ab.NetDynamics`."""
    p, m = dyn.profile, dyn.mechanism
    deep = slice(DEEP - 1, None)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return NetPoint(key=key, name=name, shared=shared, group=group, val_acc=val_acc, test_acc=test_acc,
                    std_layer=p.std_layer, mean_layer=p.mean_layer, std_layer_absolute=p.sensitivity.std_layer_absolute,
                    deep_std_ratio=mean(p.std_profile[deep]) / max(p.std_profile),
                    saturation=mean(m.saturated[deep]), slope=mean(m.slope[deep]), z_spread=mean(m.z_spread[deep]),
                    weight_ratio=mean(m.weight_norm[deep]) / m.weight_norm[0])


@dataclass(frozen=True)
class Association:
    """Across the trained nets of the map: Spearman's rank correlation of a deep-layer mechanism
    quantity with ``deep_std_ratio`` (how far the across-sample std has fallen from its peak)."""

    quantity: str
    rho: float
    p_value: float
    n: int


def associations(points: list[NetPoint]) -> tuple[list[Association], str]:
    """The :class:`Association` of each quantity of :data:`resdyn.claims.ASSOCIATION_SIGNS`, and the
    verdict of the rule :data:`resdyn.claims.ASSOCIATION`."""
    from scipy.stats import spearmanr

    trained = [p for p in points if p.group != "untrained"]
    out = []
    for q in claims.ASSOCIATION_SIGNS:
        xs, ys = [getattr(p, q) for p in trained], [p.deep_std_ratio for p in trained]
        res = spearmanr(xs, ys) if len(set(xs)) > 1 else None
        out.append(Association(q, float(res.statistic) if res else 0.0, float(res.pvalue) if res else 1.0, len(trained)))
    r, sign = claims.ASSOCIATION.thresholds, claims.ASSOCIATION_SIGNS
    ok = [a for a in out if a.n >= r["min_nets"] and a.p_value < r["max_p"] and a.rho * sign[a.quantity] >= r["min_rho"]]
    return out, max(ok, key=lambda a: abs(a.rho)).quantity if ok else "neither"


@dataclass(frozen=True)
class MechanismStudy:
    """Section ``mechanism``: the paper-like regime at full length (both kinds of weights), and for
    every trained net of the paper run (chosen regime, its untrained twins, the baseline, every
    sweep variant) and the paper-like nets: when it settles and what its deep units do.

    dynamics: per-layer statistics of the main nets ("<group>/<weights>"); points: every net;
    associations, goes_with_settling: :func:`associations`."""

    paper_like: dict[str, TrainedNet]
    dynamics: dict[str, NetDynamics]
    points: list[NetPoint]
    associations: list[Association]
    goes_with_settling: str

    SECTION: ClassVar[str] = "mechanism"


def analysis_split(exp, scaling: str | None):
    """``exp``'s analysis samples (``n_per_class`` test samples per class) under input ``scaling``."""
    return balanced_subset(exp.dataset(scaling or exp.regime.scaling).test, exp.n_per_class, seed=exp.seed)


@dataclass(frozen=True)
class MapNet:
    """A net to put on the map: how it is named and grouped, the model, its analysis samples and its
    accuracies (None where not read). ``keep``: its per-layer dynamics go into the record."""

    key: str
    name: str
    shared: bool
    group: str
    model: object
    samples: Split
    val_acc: float | None
    test_acc: float | None
    keep: bool


def measure(nets: list[MapNet], paper_like: dict[str, FitResult]) -> MechanismStudy:
    """Settling and the deep-layer mechanism of every net in ``nets``, and the association rule."""
    dynamics, points = {}, []
    for n in nets:
        _, dyn = net_dynamics(n.model, n.samples)
        if n.keep:
            dynamics[f"{n.group}/{'shared' if n.shared else 'separate'}"] = dyn
        points.append(net_point(n.key, n.name, n.shared, n.group, dyn, val_acc=n.val_acc, test_acc=n.test_acc))
    assoc, verdict = associations(points)
    return MechanismStudy(paper_like={n: TrainedNet.of(r) for n, r in paper_like.items()}, dynamics=dynamics,
                          points=points, associations=assoc, goes_with_settling=verdict)


def run(exp) -> MechanismStudy:
    """Train (or load) the paper-like regime's nets; measure settling and mechanism of every net of
    the paper run (chosen regime, untrained twins, every sweep variant) and the paper-like nets."""
    variants = regime_variants()
    sweep = exp.train(*paper_jobs(exp)[: len(variants)])
    chosen = trained_nets(exp)
    like = dict(zip(NETS, exp.train(*(candidate_job(exp, PAPER_LIKE, shared=(n == "shared")) for n in NETS))))
    nets = []
    for net in NETS:
        shared = net == "shared"
        nets += [MapNet("chosen", "chosen regime", shared, "chosen", chosen[net].model, analysis_split(exp, None),
                        chosen[net].val_acc, chosen[net].test_acc, True),
                 MapNet("untrained", "untrained (chosen regime's init)", shared, "untrained", untrained_net(exp, net),
                        analysis_split(exp, None), None, None, True),
                 MapNet(PAPER_LIKE.key, PAPER_LIKE.name, shared, "paper_like", like[net].model,
                        analysis_split(exp, PAPER_LIKE.scaling), like[net].val_acc, like[net].test_acc, True)]
    for v, r in zip(variants, sweep):
        group = "baseline" if v.key == "baseline" else "sweep"
        nets.append(MapNet(v.key, v.name, v.shared, group, r.model, analysis_split(exp, v.scaling), r.val_acc, None,
                           group == "baseline"))
    return measure(nets, like)


def sentence(m: MechanismStudy) -> str:
    """What goes with settling, in one generated sentence."""
    q = {"saturation": "saturation of the deep sigmoid units", "weight_ratio": "shrinking deep weights",
         "neither": "neither saturation nor shrinking weights (by the rule fixed before the run)"}[m.goes_with_settling]
    assoc = "; ".join(f"{a.quantity}: Spearman rho {a.rho:+.2f} (p = {a.p_value:.2g}, {a.n} nets)" for a in m.associations)
    return f"What goes with settling: **{q}** ({assoc}; against the deep layers' std relative to its peak)."


def render(m: MechanismStudy, link: str) -> str:
    """The report's section: the association, the paper-like nets and every net's deep layers."""
    out = ["## Why the residuals settle: saturation or shrinking weights", "", f"Notebook: {link}.", "",
           sentence(m), "",
           "The paper-like regime (inputs in [0, 1], PyTorch's default initialization, Adam 1e-3 constant) at full length:", ""]
    out.append(table(["weights", "test accuracy", "val accuracy", "epochs"],
                      [(n, pct(t.test_acc), pct(t.val_acc), t.epochs) for n, t in m.paper_like.items()]))
    out += ["", f"Every net (deep layers {DEEP}-{DEPTH}; weight ratio = mean ||W(t)|| there over ||W(1)||; sweep variants: stage-1 "
            "budget, test set not read):", ""]
    out.append(table(["net", "weights", "group", "val acc", "test acc", "std settles", "std / peak (deep)", "saturated",
                       "slope", "weight ratio"],
                      [(p.name, "shared" if p.shared else "separate", p.group, pct(p.val_acc), pct(p.test_acc),
                        never(p.std_layer), f"{p.deep_std_ratio:.2f}", f"{p.saturation:.2f}", f"{p.slope:.3f}",
                        f"{p.weight_ratio:.2f}") for p in m.points]))
    return "\n".join(out + [""])
