"""Why the residuals settle (notebook 06): saturation of the deep sigmoid units or shrinking weights?

Every trained net of the paper run and the paper-like regime is measured on its analysis samples
(:func:`resdyn.studies.sections.fig1ab.net_dynamics`); across the nets, the association rule
(:data:`resdyn.core.claims.ASSOCIATION`) names what goes with settling. Core: :func:`measure` takes a
list of :class:`MapNet` (any model with a DenseResNet-like trajectory and its samples).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split, balanced_subset
from resdyn.studies.experiment import candidate_job, paper_jobs
from resdyn.studies.markdown import pct
from resdyn.studies.regimes import PAPER_LIKE, regime_variants
from resdyn.core.train import FitResult
from resdyn.studies.sections.common import TrainedNet, trained_nets, untrained_net
from resdyn.studies.sections.fig1ab import DEEP, NetDynamics, net_dynamics


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
    """A :class:`NetPoint` from a net's :class:`resdyn.studies.sections.fig1ab.NetDynamics`."""
    p, m = dyn.profile, dyn.mechanism
    deep = slice(DEEP - 1, None)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return NetPoint(key=key, name=name, shared=shared, group=group, val_acc=val_acc, test_acc=test_acc,
                    std_layer=p.std_layer, mean_layer=p.mean_layer, std_layer_absolute=p.sensitivity.std_layer_absolute,
                    deep_std_ratio=mean(p.std_profile[deep]) / max(p.std_profile),
                    saturation=mean(m.saturated[deep]), slope=mean(m.slope[deep]), z_spread=mean(m.z_spread[deep]),
                    weight_ratio=mean(m.weight_norm[deep]) / m.weight_norm[0])


#: The seeds the regime sweep's nets are trained at for the map (more nets than
#: one seed's variants, so that each correlation gets a bootstrap interval); the first is the paper run's.
SWEEP_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Association:
    """Across the trained nets of the map: Spearman's rank correlation of a deep-layer mechanism
    quantity with ``deep_std_ratio`` (how far the across-sample std has fallen from its peak), with
    its 95 % bootstrap interval [low, high] (None in records made before it existed)."""

    quantity: str
    rho: float
    p_value: float
    n: int
    low: float | None = None
    high: float | None = None


def bootstrap_rho(xs: list[float], ys: list[float], *, resamples: int, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of Spearman's rho between ``xs`` and ``ys`` (n values each), the
    pairs resampled with replacement ``resamples`` times (numpy's generator seeded with ``seed``);
    resamples in which either side is constant are left out."""
    import numpy as np
    from scipy.stats import spearmanr

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"xs and ys must be of one length, at least 3; got {len(x)} and {len(y)}.")
    rng = np.random.default_rng(seed)
    rhos = []
    for _ in range(resamples):
        i = rng.integers(0, len(x), len(x))
        if np.ptp(x[i]) > 0 and np.ptp(y[i]) > 0:
            rhos.append(spearmanr(x[i], y[i]).statistic)
    low, high = np.percentile(rhos, [2.5, 97.5])
    return float(low), float(high)


def borderline(a: Association) -> bool:
    """Whether ``a``'s bootstrap interval contains the rule's threshold on the side of its expected sign."""
    t = claims.ASSOCIATION.thresholds["min_rho"] * claims.ASSOCIATION_SIGNS[a.quantity]
    return a.low is not None and a.low <= t <= a.high


def associations(points: list[NetPoint]) -> tuple[list[Association], str]:
    """The :class:`Association` of each quantity of :data:`resdyn.core.claims.ASSOCIATION_SIGNS`, and the
    verdict of the rule :data:`resdyn.core.claims.ASSOCIATION`."""
    from scipy.stats import spearmanr

    trained = [p for p in points if p.group != "untrained"]
    out = []
    for q in claims.ASSOCIATION_SIGNS:
        xs, ys = [getattr(p, q) for p in trained], [p.deep_std_ratio for p in trained]
        res = spearmanr(xs, ys) if len(set(xs)) > 1 else None
        low, high = bootstrap_rho(xs, ys, resamples=claims.ASSOCIATION.thresholds["resamples"]) if res else (None, None)
        out.append(Association(q, float(res.statistic) if res else 0.0, float(res.pvalue) if res else 1.0, len(trained),
                               low, high))
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
    seeded = [exp] + [replace(exp, seed=s, train_config=replace(exp.train_config, seed=s)) for s in SWEEP_SEEDS[1:]]
    sweep = exp.train(*(j for e in seeded for j in paper_jobs(e)[: len(variants)]))
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
    for k, r in enumerate(sweep):  # seed by seed, each seed's variants in order
        e, v = seeded[k // len(variants)], variants[k % len(variants)]
        group = "baseline" if v.key == "baseline" else "sweep"
        key, name = (v.key, v.name) if e.seed == exp.seed else (f"{v.key}/seed {e.seed}", f"{v.name}, seed {e.seed}")
        nets.append(MapNet(key, name, v.shared, group, r.model, analysis_split(e, v.scaling), r.val_acc, None,
                           group == "baseline" and e.seed == exp.seed))
    return measure(nets, like)


def sentence(m: MechanismStudy) -> str:
    """What goes with settling, in one generated sentence; "borderline" where the named quantity's
    bootstrap interval contains the rule's threshold (:data:`resdyn.core.claims.ASSOCIATION`)."""
    q = {"saturation": "saturation of the deep sigmoid units", "weight_ratio": "shrinking deep weights",
         "neither": "neither saturation nor shrinking weights (by the rule fixed before the run)"}[m.goes_with_settling]
    named = next((a for a in m.associations if a.quantity == m.goes_with_settling), None)
    ci = lambda a: "" if a.low is None else f", 95 % bootstrap interval [{a.low:+.2f}, {a.high:+.2f}]"  # noqa: E731
    assoc = "; ".join(f"{a.quantity}: Spearman rho {a.rho:+.2f} (p = {a.p_value:.2g}{ci(a)}, {a.n} nets)"
                      for a in m.associations)
    if named is not None and borderline(named):
        t = claims.ASSOCIATION.thresholds["min_rho"]
        return (f"What goes with settling: borderline. The rule names {q}, but its interval contains the "
                f"threshold {t:g} ({assoc}; against the deep layers' std relative to its peak); notebook 16 tests the "
                "mechanism by intervention.")
    return f"What goes with settling, across nets: **{q}** ({assoc}; against the deep layers' std relative to its peak)."


#: The quantities of the association rule, in words.
QUANTITIES = {"saturation": "the saturation of the deep sigmoid units", "weight_ratio": "the shrinking of the deep weights"}


def what_this_shows(m: MechanismStudy) -> str:
    """What the association across nets shows, in words (notebook 06's closing paragraph): what goes with
    settling by :data:`resdyn.core.claims.ASSOCIATION`, which quantity is borderline, and what is left to notebook 16."""
    th = claims.ASSOCIATION.thresholds
    n = max((a.n for a in m.associations), default=0)
    named = next((a for a in m.associations if a.quantity == m.goes_with_settling), None)
    if m.goes_with_settling == "neither":
        out = [f"Across the {n} trained nets, neither {QUANTITIES['saturation']} nor {QUANTITIES['weight_ratio']} goes "
               f"with settling by the rule fixed before the run: no rank correlation of the expected sign reaches "
               f"{th['min_rho']:g} with p below {th['max_p']:g}."]
    elif named is not None and borderline(named):
        out = [f"Across the {n} trained nets, the rule fixed before the run names {QUANTITIES[m.goes_with_settling]} "
               "as what goes with settling, but its bootstrap interval contains the rule's threshold: borderline."]
    else:
        out = [f"Across the {n} trained nets, settling goes with {QUANTITIES[m.goes_with_settling]}, by the rule fixed "
               "before the run."]
    near = [QUANTITIES[a.quantity] for a in m.associations if borderline(a) and a.quantity != m.goes_with_settling]
    if near:
        out.append(f"The bootstrap interval{'s' * (len(near) > 1)} of {' and of '.join(near)} contain"
                   f"{'s' * (len(near) == 1)} the rule's threshold{' too' * (m.goes_with_settling != 'neither')}: borderline.")
    out.append("An association across nets cannot tell the two apart where both change together; notebook 16 "
               "undoes each in turn.")
    return " ".join(out)


def render(m: MechanismStudy, link: str) -> str:
    """The report's section: the association and the paper-like nets (every net's deep layers are in the notebook)."""
    out = ["## Why the residuals settle: saturation or shrinking weights", "", f"Notebook: {link}. " + sentence(m), "",
           "The paper-like regime (inputs in [0, 1], PyTorch's default initialization, Adam 1e-3 constant) at full "
           "length: " + "; ".join(f"{n} weights {pct(t.test_acc)} test accuracy ({pct(t.val_acc)} validation, "
                                  f"{t.epochs} epochs)" for n, t in m.paper_like.items()) + "."]
    out[-1] += (f" The notebook lists all {len(m.points)} nets with their deep layers' (from layer {DEEP}) settling, "
            "saturation, slope and weight ratio.")
    return "\n".join(out + [""])
