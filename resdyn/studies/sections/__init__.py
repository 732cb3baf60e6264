"""The sections of results.json, one module per figure or study, and the registry that names them.

Each module holds its record type (a frozen dataclass whose ``SECTION`` is its key in results.json),
a *core* that takes models and samples (``measure``, so that it works on other models and data), a
thin ``run`` that gets them from a :class:`resdyn.studies.experiment.Setup`, and ``render``, its part of the
report. The paper's sections (notebooks 00-04) expose the steps ``measure`` and ``run`` compose
(``nets``, one call for every net, or the sweep's ``stage1`` and ``stage2``; ``record``, the record
from the statistics), which their notebooks run in visible cells. :data:`SECTIONS` says, for every
section, which notebook computes it, which target runs it, its record, its figures (with the
tolerance ``check-figures`` allows), its claims and its verdict rule. The schema
(:mod:`resdyn.run.results`), the report, the verdicts, ``resdyn reproduce`` and ``check-figures`` read
it; adding a figure is one entry here, its module, its notebook and its plot (:mod:`resdyn.studies.plots`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.lib.zoo import FAMILY_NAMES
from resdyn.studies.sections import (adaptive, adaptive1d, by_regime, criteria1d, depth, depth1d, fig1ab, fig1c, fig1d,
                                     intervention, mechanism, precision, regime, regime_map, regime_units, seeds, toy,
                                     trace)


@dataclass(frozen=True)
class Figure:
    """A figure a section's notebook saves: ``stem``.png/.pdf in the figures folder, its title in the
    report, and the RMS tolerance (matplotlib.testing's 0-255 scale) ``check-figures`` allows against
    float noise between processors (None: not regenerated in CI, not compared)."""

    stem: str
    title: str
    tolerance: float | None = None


@dataclass(frozen=True)
class Section:
    """One section of results.json: its key, notebook (file stem), target, record type, figures,
    claim keys and the rule that gives their verdicts (record -> list of :class:`resdyn.core.claims.Verdict`),
    and its report renderer (record, notebook link -> Markdown)."""

    name: str
    notebook: str
    target: str
    record: type
    figures: tuple[Figure, ...]
    render: Callable
    claims: tuple[str, ...] = ()
    verdicts: Callable | None = None


def _keys(*claims_: str) -> tuple[str, ...]:
    return tuple(f"{c}_{net}" for c in claims_ for net in NETS)


def _families(*claims_: str) -> tuple[str, ...]:
    return tuple(f"{c}_{f}" for c in claims_ for f in FAMILY_NAMES)


#: RMS tolerances of the paper target's figures: measured between the same code's figures on Intel
#: Xeon and AMD EPYC, doubled, at least 1. In fp32 they are adaptive_depth 1.2, fig1a
#: 0.18, fig1b 6.2, fig1c 0.05, fig1d 19.8, regime_sweep 10.0; in bf16, the precision the
#: runs use on both processors (Intel's AMX against AMD's avx512_bf16; the same 42 verdicts):
#: adaptive_depth 13.96, fig1a 5.60, fig1b 18.38, fig1c 6.59, fig1d 23.48, regime_sweep 12.51. The
#: tolerance is twice the larger. The verdicts, compared exactly, are the real check; t-SNE (fig1d)
#: amplifies float noise, so its figure check is the weakest.
SECTIONS = (
    Section("regime", "00_training_regime", "paper", regime.RegimeSweep,
            (Figure("regime_sweep", "Regime sweep", 25.0),), regime.render),
    Section("fig1ab", "01_fig1ab_residual_statistics", "paper", fig1ab.Fig1AB,
            (Figure("fig1a_residual_means", "Fig. 1A", 11.2), Figure("fig1b_residual_std", "Fig. 1B", 36.8)),
            fig1ab.render, _keys("error", "mean_layer", "std_layer", "mean_absolute", "std_absolute"), fig1ab.verdicts),
    Section("fig1c", "02_fig1c_trajectory_distances", "paper", fig1c.Fig1C,
            (Figure("fig1c_trajectory_distances", "Fig. 1C", 13.2),), fig1c.render, _keys("distance"), fig1c.verdicts),
    Section("fig1d", "03_fig1d_tsne", "paper", fig1d.Fig1D,
            (Figure("fig1d_tsne", "Fig. 1D", 47.0),), fig1d.render, _keys("tsne"), fig1d.verdicts),
    Section("adaptive", "04_adaptive_depth", "paper", adaptive.AdaptiveDepth,
            (Figure("adaptive_depth", "Adaptive depth", 27.9),), adaptive.render, _keys("adaptive"), adaptive.verdicts),
    Section("seeds", "05_seeds", "seeds", seeds.SeedsSection, (Figure("seeds", "Seeds"),), seeds.render,
            tuple(f"{k}/seeds" for k in _keys(*claims.SEED_CLAIMS)),
            seeds.verdicts),
    Section("mechanism", "06_mechanism", "study", mechanism.MechanismStudy, (Figure("mechanism", "Mechanism"),),
            mechanism.render),
    Section("regime_map", "07_regime_map", "study", regime_map.RegimeMap, (Figure("regime_map", "Regime map"),),
            regime_map.render),
    Section("depth", "08_depth", "study", depth.DepthStudy, (Figure("depth", "Depth"),), depth.render),
    Section("toy", "09_toy_circles", "study", toy.ToyCircles, (Figure("toy_circles", "Toy"),), toy.render,
            _keys("toy"), toy.verdicts),
    Section("precision", "10_precision", "study", precision.PrecisionStudy,
            (Figure("precision", "bf16 against fp32"),), precision.render),
    Section("trace", "11_trace", "study", trace.TraceStudy,
            (Figure("trace_models", "Dense and conv residual nets traced"),), trace.render),
    Section("depth1d", "12_mnist1d_depth", "criteria", depth1d.Depth1d,
            (Figure("mnist1d_depth", "MNIST-1D: depth curves"),), depth1d.render,
            _families("depth_matters"), depth1d.verdicts),
    Section("criteria1d", "13_mnist1d_criteria", "criteria", criteria1d.Criteria1d,
            (Figure("mnist1d_criteria", "MNIST-1D: criteria against removal"),), criteria1d.render,
            _families("ranks_removable"), criteria1d.verdicts),
    Section("adaptive1d", "14_mnist1d_adaptive", "criteria", adaptive1d.Adaptive1d,
            (Figure("mnist1d_adaptive", "MNIST-1D: the adaptive rule"),), adaptive1d.render,
            _families("adaptive_keeps"), adaptive1d.verdicts),
    Section("by_regime", "15_claims_by_regime", "regimes", by_regime.ByRegime,
            (Figure("claims_by_regime", "Every claim in each regime"),
             Figure("layer_ratios", "Class information layer by layer")), by_regime.render,
            tuple(f"{k}/{r}" for r in claims.REGIMES for k in _keys(*claims.SEED_CLAIMS)), by_regime.verdicts),
    Section("intervention", "16_intervention", "regimes", intervention.InterventionStudy,
            (Figure("intervention", "The mechanism, by intervention"),), intervention.render,
            tuple(f"intervention_{f}_{r}_{n}" for r in claims.REGIMES for n in claims.NETS for f in claims.INTERVENTION_UNDO
                  if not (f == "weights" and n == "shared")), intervention.verdicts),
)
#: The targets, in the order they run: each is one ``resdyn reproduce --target`` run of its notebooks.
TARGETS = tuple(dict.fromkeys(s.target for s in SECTIONS))
NAMES = tuple(s.name for s in SECTIONS)


def section(name: str) -> Section:
    """The registry entry of section ``name``."""
    for s in SECTIONS:
        if s.name == name:
            return s
    raise ValueError(f"name must be a section of results.json, one of {', '.join(NAMES)}; got {name!r}.")


def of_target(target: str) -> tuple[Section, ...]:
    """The sections ``target`` computes, in notebook order."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}; got {target!r}.")
    return tuple(s for s in SECTIONS if s.target == target)


def of_record(record) -> Section:
    """The registry entry whose record type ``record`` is."""
    for s in SECTIONS:
        if isinstance(record, s.record):
            return s
    raise TypeError(f"record must be a section record ({', '.join(s.record.__name__ for s in SECTIONS)}), "
                    f"got {type(record).__name__}.")


def figure_tolerances(target: str = "paper") -> dict[str, float]:
    """{stem: RMS tolerance} of the figures ``target`` draws that ``check-figures`` compares."""
    return {f.stem: f.tolerance for s in of_target(target) for f in s.figures if f.tolerance is not None}


def verdict_table(exp, record):
    """The verdicts of ``record`` as its notebook's checked cell shows them, the run first: a
    :class:`resdyn.studies.verdict_text.ClaimsTable` (Markdown in a notebook, plain text as ``str``)."""
    from resdyn.studies import verdict_text

    entry = of_record(record)
    return verdict_text.table(entry.verdicts(record) if entry.verdicts else [], exp=exp)
