"""The regime map and the targeted search (notebook 07): which regimes give the paper's accuracy and
its settling at once, and which regime the paper notebooks run in (decided on validation).

Core: :func:`candidates` and :func:`measure` take trained nets and their samples; :func:`run` trains
or loads the targeted configurations (:data:`resdyn.studies.regimes.TARGETED`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.studies.experiment import candidate_job
from resdyn.studies.markdown import pct
from resdyn.studies.regimes import TARGETED, Candidate
from resdyn.core.train import FitResult
from resdyn.studies.sections.common import TrainedNet
from resdyn.studies.sections.fig1ab import net_dynamics
from resdyn.studies.sections.mechanism import MechanismStudy, NetPoint, analysis_split, net_point


@dataclass(frozen=True)
class CandidateResult:
    """One targeted configuration with one kind of weights: its settings, the trained net and where
    it sits on the map."""

    key: str
    name: str
    shared: bool
    paper_scaled: bool
    settings: dict
    net: TrainedNet
    point: NetPoint


@dataclass(frozen=True)
class RegimeDecision:
    """Which regime the paper notebooks run in, by :data:`resdyn.core.claims.REGIME_DECISION` (validation
    accuracy only)."""

    rule: str
    today: dict[str, float]
    best_paper_scaled: str
    best: dict[str, float]
    switch: bool


@dataclass(frozen=True)
class RegimeMap:
    """Section ``regime_map``: the targeted configurations, every trained net on the map (test accuracy
    against settling, with its deep-layer saturation), the nets that meet both claims at once
    (``both``: "<key>/<weights>" with test error within 0.3 points of the paper's and a Fig. 1B
    settling layer of 7 or earlier), and the regime decision."""

    candidates: list[CandidateResult]
    points: list[NetPoint]
    both: list[str]
    decision: RegimeDecision

    SECTION: ClassVar[str] = "regime_map"

    def frame(self):
        """The targeted candidates as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([{"candidate": c.name, "shared": c.shared, "val_acc": c.net.val_acc, "test_acc": c.net.test_acc,
                              "std settles": c.point.std_layer, "means settle": c.point.mean_layer,
                              "saturated": c.point.saturation} for c in self.candidates])


def candidates(results: list[tuple[Candidate, bool, FitResult, Split]], regime_settings: dict) -> list[CandidateResult]:
    """Each trained candidate (candidate, shared, result, analysis samples) with its place on the map."""
    out = []
    for c, shared, r, samples in results:
        _, dyn = net_dynamics(r.model, samples)
        point = net_point(c.key, c.name, shared, "targeted", dyn, val_acc=r.val_acc, test_acc=r.test_acc)
        settings = {**regime_settings, **c.model, **r.config.to_dict(), "scaling": c.scaling or regime_settings["scaling"]}
        out.append(CandidateResult(c.key, c.name, shared, c.paper_scaled, settings, TrainedNet.of(r), point))
    return out


def meets_both(p: NetPoint) -> bool:
    """Whether a net has the paper's accuracy (:func:`resdyn.core.claims.error_limit`) and Fig. 1B settling
    by :data:`resdyn.core.claims.SETTLING_BY_LAYER`."""
    limit = claims.error_limit("shared" if p.shared else "separate")
    return (p.test_acc is not None and 100 * (1 - p.test_acc) <= limit + 1e-9
            and p.std_layer is not None and p.std_layer <= claims.SETTLING_BY_LAYER)


def measure(mechanism: MechanismStudy, cands: list[CandidateResult]) -> RegimeMap:
    """The map of ``mechanism``'s nets and the targeted candidates, and the regime decision."""
    points = mechanism.points + [c.point for c in cands]
    both = [f"{p.key}/{'shared' if p.shared else 'separate'}" for p in points if meets_both(p)]
    return RegimeMap(candidates=cands, points=points, both=both, decision=decide(mechanism, cands))


def run(exp, mechanism: MechanismStudy) -> RegimeMap:
    """Train (or load) the targeted configurations, put them on the map with ``mechanism``'s nets,
    and decide the regime on the validation split."""
    pairs = [(c, n == "shared") for c in TARGETED for n in NETS]
    results = exp.train(*(candidate_job(exp, c, shared=shared) for c, shared in pairs))
    trained = [(c, shared, r, analysis_split(exp, c.scaling)) for (c, shared), r in zip(pairs, results)]
    return measure(mechanism, candidates(trained, exp.regime.settings()))


def decide(mechanism: MechanismStudy, cands: list[CandidateResult]) -> RegimeDecision:
    """:data:`resdyn.core.claims.REGIME_DECISION` on validation accuracy."""
    today = {("shared" if p.shared else "separate"): p.val_acc for p in mechanism.points if p.group == "chosen"}
    scaled: dict[str, dict[str, float]] = {}
    for c in cands:
        if c.paper_scaled:
            scaled.setdefault(c.key, {})["shared" if c.shared else "separate"] = c.net.val_acc
    for p in mechanism.points:
        if p.group == "paper_like":
            scaled.setdefault(p.key, {})["shared" if p.shared else "separate"] = p.val_acc
    best = max(scaled, key=lambda k: sum(scaled[k].values()))
    tolerance = claims.REGIME_DECISION.thresholds["tolerance"]
    switch = all(100 * (scaled[best][n] - today[n]) >= -tolerance for n in NETS)
    return RegimeDecision(rule=claims.REGIME_DECISION.describe(), today=today,
                          best_paper_scaled=best, best=scaled[best], switch=switch)


def _on_limit(p: NetPoint) -> str:
    """", on the limit: borderline" where a net's test error equals the paper's limit to the shown 0.01
    point (an interval or a value on its threshold is borderline, as over seeds), else ''."""
    limit = claims.error_limit("shared" if p.shared else "separate")
    return ", on the limit: borderline" if claims.on_limit(100 * (1 - p.test_acc), limit) else ""


def sentence(g: RegimeMap) -> str:
    """The nets that meet both claims and the regime decision, in one generated sentence."""
    d = g.decision
    by = {f"{p.key}/{'shared' if p.shared else 'separate'}": p for p in g.points}
    both = "; ".join(f"`{k}` (test error {100 * (1 - by[k].test_acc):.2f} %{_on_limit(by[k])}, settles from layer "
                     f"{by[k].std_layer}, {100 * by[k].saturation:.0f} % of its deep units saturated)" for k in g.both) or "none"
    return (f"Nets that give both the paper's accuracy (test error within {claims.ERROR.thresholds['holds']} points of "
            f"the paper's) and Fig. 1B settling by layer {claims.SETTLING_BY_LAYER}: {both}. Regime decision on validation: the best paper-scaled candidate is `{d.best_paper_scaled}` "
            f"({', '.join(f'{n} {pct(v)}' for n, v in d.best.items())} against today's "
            f"{', '.join(f'{n} {pct(v)}' for n, v in d.today.items())}); "
            + ("the paper notebooks move to it." if d.switch else "today's regime stays."))


def what_this_shows(g: RegimeMap) -> str:
    """Whether a net gives the paper's accuracy and its settling at once, and which regime the paper notebooks
    keep, in words (notebook 07's closing paragraph)."""
    names = {f"{c.key}/{'shared' if c.shared else 'separate'}": f"{c.name} ({'shared' if c.shared else 'separate'} "
             "weights)" for c in g.candidates}
    by = {f"{p.key}/{'shared' if p.shared else 'separate'}": p for p in g.points}
    both = [names.get(k) or f"{by[k].name} ({'shared' if by[k].shared else 'separate'} weights)" for k in g.both]
    goal = (f"the paper's accuracy (test error within {claims.ERROR.thresholds['holds']:g} points of the paper's) and "
            f"Fig. 1B settling by layer {claims.SETTLING_BY_LAYER}")
    out = [f"No trained net gives both {goal}." if not both else
           f"{len(both)} trained net{'s give' if len(both) > 1 else ' gives'} both {goal}: {'; '.join(both)}."]
    best = next((c.name for c in g.candidates if c.key == g.decision.best_paper_scaled), g.decision.best_paper_scaled)
    out.append(f"The best paper-scaled candidate on validation is {best}; by the rule fixed before the run, "
               + ("the paper notebooks move to it." if g.decision.switch else "the paper notebooks keep the chosen regime."))
    return " ".join(out)


def render(g: RegimeMap, link: str) -> str:
    """The report's section: the sentence and the decision rule (the candidates are in the notebook)."""
    out = ["## Regime map and the targeted search", "", f"Notebook: {link}. " + sentence(g), "",
           f"Decision rule (fixed before the run): {g.decision.rule}. The notebook lists the {len(g.candidates)} "
           "candidates with their accuracy, settling and saturation."]
    return "\n".join(out + [""])
