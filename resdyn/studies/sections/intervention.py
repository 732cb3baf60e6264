"""The mechanism, tested by intervention (section ``intervention``, notebook 16).

Across nets, saturation of the deep sigmoid units and shrinking deep weights go together
(notebook 06), so their association cannot say which one settling goes with. Here the trained nets
of every regime and seed are changed after training, one factor at a time, in the deep layers only
(:func:`resdyn.lib.surgery.intervene`): the pre-activations centred (saturation undone, weights kept),
the weights rescaled to layer 1's norm (weight ratio undone, biases kept), the weights halved. Each
changed net is measured as the mechanism study measures a net (:func:`resdyn.studies.sections.mechanism.net_point`),
and the rule :data:`resdyn.core.claims.INTERVENTION` says which factor settling goes with.

Core: :func:`measure` takes one model and its samples (each unit of :mod:`resdyn.studies.sections.regime_units`
calls it on its nets); :func:`from_units` gathers the units' points.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.studies.markdown import never, table
from resdyn.lib.surgery import INTERVENTIONS, intervene
from resdyn.studies.sections.fig1ab import DEEP, net_dynamics
from resdyn.studies.sections.mechanism import net_point

#: The rows of the study: the net as trained, then each intervention of :data:`resdyn.lib.surgery.INTERVENTIONS`.
KINDS = ("trained", *INTERVENTIONS)


@dataclass(frozen=True)
class InterventionPoint:
    """One net (regime, weights, seed) as trained or with one intervention (``kind``, of
    :data:`KINDS`): its Fig. 1B settling layer (None: never), the deep std ratio, and the deep
    layers' saturated fraction and weight ratio (as :class:`resdyn.studies.sections.mechanism.NetPoint`)."""

    regime: str
    net: str
    seed: int
    kind: str
    std_layer: int | None
    deep_std_ratio: float
    saturation: float
    weight_ratio: float


@dataclass(frozen=True)
class InterventionStudy:
    """Section ``intervention``: every point, the first changed layer, and per regime its seeds."""

    from_layer: int
    seeds: dict[str, int]
    points: list[InterventionPoint]

    SECTION: ClassVar[str] = "intervention"

    def layers(self, regime: str, net: str, kind: str) -> list[int | None]:
        """The settling layer of every seed (in order) of one regime, net and kind."""
        return [p.std_layer for p in self.points if (p.regime, p.net, p.kind) == (regime, net, kind)]


def measure(model: torch.nn.Module, samples: Split, *, regime: str, net: str, seed: int) -> list[InterventionPoint]:
    """The trained ``model`` and each intervention on it (layer-1-norm only with separate weights),
    measured on ``samples``."""
    out = []
    for kind in KINDS:
        if kind == "layer1_norm" and model.config.shared_weights:
            continue
        changed = model if kind == "trained" else intervene(model, samples.x, kind, from_layer=DEEP)
        p = net_point(kind, kind, model.config.shared_weights, regime, net_dynamics(changed, samples)[1],
                      val_acc=None, test_acc=None)
        out.append(InterventionPoint(regime=regime, net=net, seed=seed, kind=kind, std_layer=p.std_layer,
                                     deep_std_ratio=p.deep_std_ratio, saturation=p.saturation,
                                     weight_ratio=p.weight_ratio))
    return out


def from_units(units) -> InterventionStudy:
    """The section from the study's units (:func:`resdyn.studies.sections.regime_units.run`): every unit's
    points (:func:`measure` on both nets of its regime and seed, computed with the unit)."""
    return InterventionStudy(from_layer=DEEP, seeds={n: len(us) for n, us in units.seeds.items()},
                             points=[p for us in units.seeds.values() for u in us for p in u.points])


def verdicts(rec: InterventionStudy) -> list[claims.Verdict]:
    """:func:`resdyn.core.claims.intervention` for each factor, net and regime (weights: separate only)."""
    return [claims.intervention(factor, net, regime, rec.layers(regime, net, "trained"), rec.layers(regime, net, undo))
            for regime in claims.in_regime_order(rec.seeds) for net in NETS for factor, undo in claims.INTERVENTION_UNDO.items()
            if rec.layers(regime, net, undo)]


#: What each factor of :data:`resdyn.core.claims.INTERVENTION_UNDO` is, in words.
FACTORS = {"saturation": "saturation of the deep sigmoid units", "weights": "the shrinking of the deep weights"}


def _by_net(rec: InterventionStudy) -> dict[tuple[str, str], dict[str, str]]:
    """(regime, weights) -> factor -> verdict, in the regimes' order."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for v in verdicts(rec):
        factor, rest = v.key.removeprefix("intervention_").split("_", 1)
        regime, net = rest.rsplit("_", 1)
        out.setdefault((regime, net), {})[factor] = v.verdict
    return out


def conclusion(rec: InterventionStudy) -> str:
    """The mechanism's sentence, from the verdicts alone: per regime and weights where a net settles
    (a verdict other than inconclusive), which factors settling goes with and which not; then where
    nothing settles, so that no intervention can decide."""
    decided, undecided = [], []
    for (regime, net), fs in _by_net(rec).items():
        where = f"{claims.regime_name(regime)}, {net} weights"
        if all(v == "inconclusive" for v in fs.values()):
            undecided.append(where)
            continue
        said = {verdict: [FACTORS[f] for f, v in fs.items() if v == verdict] for verdict in ("holds", "partly", "does not")}
        parts = [f"with {' and '.join(said['holds'])}" if said["holds"] else "",
                 f"partly with {' and '.join(said['partly'])}" if said["partly"] else "",
                 f"not with {' or '.join(said['does not'])}" if said["does not"] else ""]
        decided.append(f"in the {where}, settling goes " + ", ".join(p for p in parts if p))
    if not decided:
        return ("By intervention, nothing is decided: no trained net settles by the relative rule of Fig. 1B, so "
                "undoing a factor has no settling to remove.")
    out = "By intervention, " + "; ".join(decided) + "."
    if undecided:
        out += (f" Where no seed's net settles ({'; '.join(undecided)}), undoing a factor has no settling to remove: "
                "inconclusive.")
    return out


def summary(rec: InterventionStudy) -> str:
    """What settling goes with, in words, from the verdicts: :func:`conclusion`, then one sentence per
    factor with the verdict in each regime and weights."""
    out, nets = [conclusion(rec)], _by_net(rec)
    for factor in claims.INTERVENTION_UNDO:
        by = {}
        for (regime, net), fs in nets.items():
            if factor in fs:
                by.setdefault(fs[factor], []).append(f"{claims.regime_name(regime)}, {net}")
        out.append(f"Undoing {factor} ({INTERVENTIONS[claims.INTERVENTION_UNDO[factor]]}): "
                   + "; ".join(f"{verdict} in {len(keys)} ({' · '.join(keys)})" for verdict, keys in by.items()) + ".")
    return " ".join(out)


def rows(rec: InterventionStudy) -> tuple[list[str], list[list]]:
    """One row per regime, net and kind: settling layer per seed, mean saturated fraction and weight ratio."""
    head = ["regime", "weights", "net", "settling layer per seed", "deep saturated fraction", "deep weight ratio"]
    out = []
    for regime in claims.in_regime_order(rec.seeds):
        for net in NETS:
            for kind in KINDS:
                ps = [p for p in rec.points if (p.regime, p.net, p.kind) == (regime, net, kind)]
                if ps:
                    out.append([claims.regime_name(regime), net, kind, ", ".join(never(p.std_layer) for p in ps),
                                f"{sum(p.saturation for p in ps) / len(ps):.3f}",
                                f"{sum(p.weight_ratio for p in ps) / len(ps):.3f}"])
    return head, out


def _wide(rec: InterventionStudy) -> tuple[list[str], list[list]]:
    """:func:`rows` with one row per regime and weights, a column per kind of net."""
    head, long = rows(rec)
    kinds = list(dict.fromkeys(r[2] for r in long))
    wide: dict[tuple, dict[str, str]] = {}
    for regime, net, kind, layers, sat, ratio in long:
        wide.setdefault((regime, net), {})[kind] = f"{layers} ({sat}, {ratio})"
    return (["regime", "weights", *kinds], [[*key, *(got.get(k, "–") for k in kinds)] for key, got in wide.items()])


def render(rec: InterventionStudy, link: str) -> str:
    """The report's section: the interventions, every point's settling layer, the verdicts in words."""
    out = ["## The mechanism, by intervention", "", f"Notebook: {link}. The trained nets of every regime, changed "
           f"after training in layers {rec.from_layer} and later, one factor at a time. "
           + " ".join(f"**{k}**: {what}." for k, what in INTERVENTIONS.items())]
    out += ["", "Settling layer per seed, then the deep layers' saturated fraction and weight ratio (means over seeds):",
            "", table(*_wide(rec)), "", summary(rec), ""]
    return "\n".join(out)
