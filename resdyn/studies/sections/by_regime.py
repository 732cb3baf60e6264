"""Every paper claim judged in each regime (section ``by_regime``, notebook 15).

A verdict from one regime says as much about that regime as about residual networks. Here each of
the paper notebooks' claims (accuracy, Fig. 1A/1B on the rules' relative and the paper's absolute
scale, Fig. 1C, Fig. 1D, adaptive depth) is judged in the three regimes of
:data:`resdyn.core.claims.REGIMES`, over their seeds (:data:`resdyn.core.claims.REGIME_SEEDS`), with the
functions the paper notebooks call. The paper-like regime's two free details (initial weight scale,
learning rate) are chosen on validation first (:func:`choose_paper_like`). Every regime's adaptive
runs train to convergence on validation (:data:`resdyn.core.claims.CONVERGENCE`), the unpruned nets they
are compared with too. The nets are trained and measured in units, one per regime and seed
(:mod:`resdyn.studies.sections.regime_units`); :func:`from_units` builds the section from them.
Paper-scale work: ``resdyn reproduce --target regimes``, outside CI.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from typing import ClassVar

from resdyn.core import claims
from resdyn.studies.experiment import PAPER_LIKE_GRID, Setup, regime_train
from resdyn.studies.markdown import never, num, pct, table
from resdyn.studies.regimes import Regime, paper_like
from resdyn.studies.sections import controls
from resdyn.studies.sections.common import censored_depth, t_interval
from resdyn.studies.sections.seeds import SWING_EPOCHS, SeedsSection, summarize
from resdyn.studies.verdict_text import LABEL, label_split


@dataclass(frozen=True)
class Choice:
    """One paper-like candidate tried on validation (separate weights, the first seed): ``val_acc`` is
    that of the net kept, the one of epoch ``kept_epoch`` of the ``epochs`` trained (None in records
    written before a run to convergence kept its best epoch); ``schedule``: its learning-rate schedule
    (constant in records written before the schedule joined the choice)."""

    init_scale: float
    lr: float
    val_acc: float
    epochs: int
    chosen: bool
    kept_epoch: int | None = None
    schedule: str = "constant"


@dataclass(frozen=True)
class ThresholdRun:
    """The shared net's adaptive run to convergence with one threshold of
    :data:`resdyn.core.claims.CONVERGENCE_SWEEP`, one seed: final depth, censored, epochs trained, test
    accuracy and its change (points) against the unpruned net trained the same way; the epoch whose net
    was kept (None in records written before a run to convergence kept its best epoch)."""

    threshold: float
    seed: int
    final_depth: int
    censored: bool
    epochs: int
    test_acc: float
    change: float
    kept_epoch: int | None = None


@dataclass(frozen=True)
class ByRegime:
    """Section ``by_regime``: per regime (keys of :data:`resdyn.core.claims.REGIMES`) what it is, its
    settings and its seeds' numbers and verdicts (a :class:`resdyn.studies.sections.seeds.SeedsSection`
    each, the verdicts with the controls' clauses applied); per regime every seed's controls (a
    :class:`resdyn.studies.sections.controls.ControlRun` each); per regime the threshold sweep beside the
    adaptive rule's run (shared weights, every seed); the paper-like candidates tried on validation."""

    regimes: dict[str, str]
    settings: dict[str, dict]
    runs: dict[str, SeedsSection]
    controls: dict[str, list[controls.ControlRun]]
    sweep: dict[str, list[ThresholdRun]]
    choice: list[Choice]

    SECTION: ClassVar[str] = "by_regime"


def _items(d: dict) -> list[tuple]:
    """``d``'s items in the regimes' order (:func:`resdyn.core.claims.in_regime_order`)."""
    return [(k, d[k]) for k in claims.in_regime_order(d)]


def regime_setup(exp: Setup, regime: Regime, *, seed: int, converge: bool = False) -> Setup:
    """``exp`` with another ``regime`` and ``seed`` (its data scaling, initialization and training;
    in quick mode the quick training with the regime's schedule and patience). ``converge``: train
    to convergence on validation (:data:`resdyn.core.claims.CONVERGENCE`) whatever the regime's epochs."""
    train = regime_train(regime, quick=exp.quick, converge=converge)
    return replace(exp, seed=seed, regime=regime, train_config=replace(train, seed=seed).resolved(),
                   data=exp.dataset(regime.scaling))


def paper_like_candidates() -> list[Regime]:
    """The paper-like regimes of :data:`resdyn.studies.experiment.PAPER_LIKE_GRID`, in the grid's order."""
    grid = PAPER_LIKE_GRID
    return [paper_like(init_scale=s, lr=lr, schedule=sc) for sc in grid["schedule"] for s in grid["init_scale"]
            for lr in grid["lr"]]


def choose_paper_like(exp: Setup) -> tuple[Regime, list[Choice]]:
    """The paper-like regime with the initial weight scale and learning rate of
    :data:`resdyn.studies.experiment.PAPER_LIKE_GRID` (quick mode: scaled, :func:`resdyn.studies.experiment.regime_train`) that give the best validation accuracy (separate
    weights, ``exp``'s seed; the first best on a tie), and every candidate's row."""
    candidates = paper_like_candidates()
    exps = [regime_setup(exp, c, seed=exp.seed) for c in candidates]
    results = exp.train(*(e.job(shared=False) for e in exps))
    best = max(range(len(results)), key=lambda i: (results[i].val_acc, -i))
    rows = [Choice(init_scale=c.init_scale, lr=c.train.lr, val_acc=r.val_acc, epochs=len(r.history), chosen=i == best,
                   kept_epoch=r.best_epoch, schedule=c.train.schedule)
            for i, (c, r) in enumerate(zip(candidates, results))]
    return candidates[best], rows


def sweep_jobs(exp: Setup) -> list:
    """The shared net's adaptive runs of :data:`resdyn.core.claims.CONVERGENCE_SWEEP` on ``exp`` (a converged setup)."""
    return [exp.job(shared=True, adaptive=replace(exp.adaptive_config(), threshold=t)) for t in claims.CONVERGENCE_SWEEP]


def seed_jobs(exp: Setup, converged: Setup) -> list:
    """One regime's and seed's nets (20): both kinds of weights as the regime trains them, adaptive to
    convergence, unpruned to convergence, the controls (:func:`resdyn.studies.sections.controls.jobs`) and the
    threshold sweep (:func:`sweep_jobs`); ``exp`` and ``converged`` from :func:`regime_setup`."""
    return [*(exp.job(shared=(n == "shared")) for n in claims.NETS),
            *(converged.job(shared=(n == "shared"), adaptive=True) for n in claims.NETS),
            *(converged.job(shared=(n == "shared")) for n in claims.NETS), *controls.jobs(exp), *sweep_jobs(converged)]


def threshold_sweep(exp: Setup) -> list[ThresholdRun]:
    """:func:`sweep_jobs` trained (or read from the cache), each against the unpruned shared net."""
    full, *runs = exp.train(exp.job(shared=True), *sweep_jobs(exp))
    cfg = exp.adaptive_config()
    out = []
    for t, a in zip(claims.CONVERGENCE_SWEEP, runs):
        _, censored = censored_depth([r.criterion for r in a.history], t, cfg.min_depth, a.model.depth)
        out.append(ThresholdRun(threshold=t, seed=exp.seed, final_depth=a.model.depth, censored=censored,
                                epochs=len(a.history), test_acc=a.test_acc,
                                change=round(100 * (a.test_acc - full.test_acc), 6), kept_epoch=a.best_epoch))
    return out


def from_units(units) -> ByRegime:
    """The section from the study's units (:func:`resdyn.studies.sections.regime_units.run`): per regime its
    seeds' runs summarized, their controls and threshold sweeps, and the paper-like choice."""
    return ByRegime(regimes=dict(claims.REGIMES), settings={n: r.settings() for n, r in units.regimes.items()},
                    runs={n: summarize([u.run for u in us]) for n, us in units.seeds.items()},
                    controls={n: [u.control for u in us] for n, us in units.seeds.items()},
                    sweep={n: [t for u in us for t in u.sweep] for n, us in units.seeds.items()},
                    choice=units.choice.choice)


def unopposed(v: claims.Verdict, seeds: list[int]) -> claims.Verdict:
    """``v`` (a verdict over seeds) where the non-residual control did not learn in ``seeds``: one that holds
    says so in words (:data:`resdyn.core.claims.UNTRAINED_CONTROL`) in its controls, instead of holding
    unopposed; any other verdict, or ``seeds`` empty, as it is."""
    if not seeds or v.verdict != "holds":
        return v
    note = f"{claims.UNTRAINED_CONTROL} (seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))})"
    return replace(v, controls=f"{note}; {v.controls}" if v.controls else note)


def _over_seeds(rec: ByRegime, name: str) -> list[claims.Verdict]:
    """:func:`resdyn.core.claims.over_seeds` in regime ``name``, each verdict the non-residual control could
    not judge in some seed (it did not learn) saying so (:func:`unopposed`)."""
    controls_ = rec.controls.get(name, [])
    return [unopposed(v, [c.seed for c in controls_ if v.key.rsplit("/", 1)[0] in c.unopposed])
            for v in claims.over_seeds(rec.runs[name])]


def verdicts(rec: ByRegime) -> list[claims.Verdict]:
    """:func:`resdyn.core.claims.over_seeds` in every regime (:func:`_over_seeds`); keys: the claim's key + ``/``
    + the regime."""
    return [replace(v, key=v.key.replace("/seeds", f"/{name}"), claim=f"{v.claim} ({claims.regime_name(name)})")
            for name, _ in _items(rec.runs) for v in _over_seeds(rec, name)]


def _by_claim(rec: ByRegime) -> dict[str, dict[str, claims.Verdict]]:
    """Per regime (in the regimes' order) its verdicts over the seeds, by claim key (without ``/seeds``)."""
    return {name: {v.key.rsplit("/", 1)[0]: v for v in _over_seeds(rec, name)} for name, _ in _items(rec.runs)}


def claim_cells(rec: ByRegime) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    """(the regimes, in their order; rows): one row per claim key, each with one (verdict over the
    regime's seeds, how the seeds split) per regime ("–" where the regime lacks the claim)."""
    by = _by_claim(rec)
    keys = list(dict.fromkeys(k for name in by for k in by[name]))
    return list(by), [(k, [(by[n][k].verdict, by[n][k].ours) if k in by[n] else ("–", "") for n in by]) for k in keys]


def claim_names(rec: ByRegime) -> dict[str, str]:
    """Each claim key of :func:`claim_cells` -> the claim in words (its rule's wording, without the
    seeds rule's ", over the seeds")."""
    suffix = claims.SEEDS.claim.format(claim="")
    return {k: v.claim.removesuffix(suffix) for by in _by_claim(rec).values() for k, v in by.items()}


def claim_table(rec: ByRegime) -> tuple[list[str], list[list[str]]]:
    """:func:`claim_cells` as a Markdown table's header (each regime with its number of seeds) and rows."""
    names, rows = claim_cells(rec)
    words = claim_names(rec)
    head = [f"{claims.regime_name(name)} ({len(rec.runs[name].seeds)} seeds)" for name in names]
    return ["claim"] + head, [[words[k]] + [f"**{LABEL.get(v, v)}** ({label_split(split)})" if split else LABEL.get(v, v)
                                            for v, split in cells] for k, cells in rows]


def sweep_table(rec: ByRegime) -> tuple[list[str], list[list[str]]]:
    """The threshold sweep per regime and threshold, over the seeds: final depths (censored marked
    "c"), accuracy change against the unpruned net; a Markdown table's header and rows."""
    head = ["regime", "threshold", "final depth per seed (c: censored)", "epochs per seed",
            "accuracy change (points), mean [95 % interval]"]
    rows = []
    for name, runs in _items(rec.sweep):
        for t in claims.CONVERGENCE_SWEEP:
            rs = [r for r in runs if r.threshold == t]
            iv = t_interval([r.change for r in rs])
            ci = "" if iv.low is None else f" [{iv.low:+.2f}, {iv.high:+.2f}]"
            rows.append([claims.regime_name(name), f"{t:g}", ", ".join(f"{r.final_depth}{' c' if r.censored else ''}" for r in rs),
                         ", ".join(str(r.epochs) for r in rs), f"{iv.mean:+.2f}{ci}" if rs else "–"])
    return head, rows


def _layers(values) -> str:
    return ", ".join(never(v) for v in values)


def control_table(rec: ByRegime) -> tuple[list[str], list[list[str]]]:
    """The controls that can meet the tests, per regime and net, over the seeds (per-seed values
    listed): the shuffled-label net's accuracy and settling layers, the non-residual net's accuracy,
    Fig. 1C ratio and Fig. 1D silhouette; a Markdown table's header and rows."""
    head = ["regime", "weights", "shuffled labels: val. accuracy", "shuffled: Fig. 1A / 1B settling layer",
            "shuffled, absolute scale: 1A / 1B", "non-residual: test accuracy", "non-residual: val. accuracy (learned?)",
            "non-residual: Fig. 1C ratio",
            "non-residual: Fig. 1D silhouette"]
    rows = []
    for name, runs in _items(rec.controls):
        for net in claims.NETS:
            sh, ml = [c.shuffled[net] for c in runs], [c.mlp[net] for c in runs]
            rows.append([claims.regime_name(name), net, ", ".join(pct(s.val_acc) for s in sh),
                         f"{_layers(s.mean_layer for s in sh)} / {_layers(s.std_layer for s in sh)}",
                         f"{_layers(s.mean_layer_absolute for s in sh)} / {_layers(s.std_layer_absolute for s in sh)}",
                         ", ".join(pct(m.test_acc) for m in ml), ", ".join(_learned(m) for m in ml),
                         ", ".join(num(m.mean_ratio) for m in ml),
                         ", ".join("collapsed" if m.silhouette is None else f"{m.silhouette:.2f}" for m in ml)])
    return head, rows


def _learned(m) -> str:
    """A non-residual control's validation accuracy, whether it learned and the candidate chosen ("–" in older records)."""
    chosen = "" if m.chosen is None else f" [{m.chosen}]"
    return "–" if m.val_acc is None else f"{pct(m.val_acc)}{'' if m.learned else ' (did not learn)'}{chosen}"


def changed_by_controls(rec: ByRegime) -> list[str]:
    """One line per claim and change that a control's clause made to seed verdicts, with the seeds it
    made it in per regime ("claim in words: before -> after (regime: seeds s, ...; ...)"), the verdicts in
    their plain labels."""
    words, by = claim_names(rec), {}
    for name, runs in _items(rec.controls):
        for c in runs:
            for key, change in c.changed.items():
                by.setdefault((key, change), {}).setdefault(name, []).append(str(c.seed))
    label = lambda change: " -> ".join(LABEL.get(w, w) for w in change.split(" -> "))  # noqa: E731
    return [f"*{words.get(key, key)}*: {label(change)} (" + "; ".join(f"{claims.regime_name(n)}: seed{'s' * (len(s) > 1)} "
                                                              f"{', '.join(s)}" for n, s in regimes.items()) + ")"
            for (key, change), regimes in by.items()]


def where_claims_hold(rec: ByRegime) -> str:
    """In words, which regimes each claim holds in (its verdict over the regime's seeds): the claims
    that hold in every regime, those that hold in some (naming them) and those that hold in none
    (with the verdicts they get instead)."""
    names, rows = claim_cells(rec)
    words = claim_names(rec)
    every, some, none, unjudged = [], [], [], []
    for key, cells in rows:
        held = [claims.regime_name(n) for n, (v, _) in zip(names, cells) if v == "holds"]
        claim = f"*{words.get(key, key)}*"
        if len(held) == len(names):
            every.append(claim)
        elif held:
            some.append(f"{claim} ({', '.join(held)})")
        elif {v for v, _ in cells if v != "–"} == {"n/a"}:
            unjudged.append(claim)
        else:
            got = dict.fromkeys(v for v, _ in cells if v != "–")
            none.append(f"{claim} ({' / '.join(got)})")
    parts = [f"{label}: {'; '.join(keys)}." for label, keys in
             (("In every regime", every), ("In some regimes", some), ("In none", none),
              ("Not judged (n/a: the paper gives nothing to compare with)", unjudged)) if keys]
    regimes = ", ".join(claims.regime_name(n) for n in names)
    return " ".join([f"Where each paper claim holds, by its verdict over the regime's seeds ({regimes})."] + parts)


def accuracy_by_regime(rec: ByRegime) -> str:
    """In words, one bullet per regime: the test error of both nets (mean and 95 % interval over the
    seeds), the paired difference shared minus separate (per seed, then its interval) read against the
    paper's order (shared lower: 1.4 % against about 1.8 %), and the epoch-to-epoch swing of the
    validation error where the units kept it (how far one epoch's number moves at the next, beside the
    seed interval). An interval of the difference that contains 0 says the seeds cannot tell the two apart."""
    def err(iv) -> str:
        return f"{iv.mean:.2f} %" + ("" if iv.low is None else f" [{iv.low:.2f}, {iv.high:.2f}]")

    out = []
    for name, s in _items(rec.runs):
        e = {net: s.summary[f"error_{net}"] for net in claims.NETS}
        d = t_interval([r.numbers["error_shared"] - r.numbers["error_separate"] for r in s.runs])
        if d.low is None:
            order = "too few seeds to compare them"
        elif d.high < 0:
            order = "shared lower, as in the paper"
        elif d.low > 0:
            order = "separate lower, the reverse of the paper"
        else:
            order = "the seeds cannot tell the two apart"
        diff = f"{d.mean:+.2f}" + ("" if d.low is None else f" [{d.low:+.2f}, {d.high:+.2f}]")
        swing = {net: [r.numbers.get(f"val_swing_{net}") for r in s.runs] for net in claims.NETS}
        swing = ("" if any(None in v for v in swing.values()) else "; epoch-to-epoch swing " + ", ".join(
            f"{net} {statistics.median(v):.2f} ({min(v):.2f} to {max(v):.2f})" for net, v in swing.items()) + " points")
        out.append(f"- {claims.regime_name(name)} ({len(s.seeds)} seeds): separate {err(e['separate'])}, shared "
                   f"{err(e['shared'])}; shared minus separate {diff} points ({order}){swing}.")
    paper = f"{claims.PAPER['error_shared']} % shared, about {claims.PAPER['error_separate']} % separate"
    return (f"Test error per regime, mean [95 % interval] over the seeds (the paper: {paper}). The epoch-to-epoch "
            f"swing is the largest change of the validation error between consecutive epochs among the last "
            f"{SWING_EPOCHS}: the median over the seeds (their range), where the units kept it.\n\n" + "\n".join(out))


def _sweep_by_regime(rec: ByRegime) -> tuple[list[str], list[list[str]]]:
    """:func:`sweep_table` with a row per regime and a column per threshold: final depths per seed and the
    accuracy change over the seeds (the epochs per seed are in the notebook)."""
    head, rows = sweep_table(rec)
    wide: dict[str, list[str]] = {}
    for regime, _, depths, _, change in rows:
        wide.setdefault(regime, []).append(f"{depths}; {change}")
    return ["regime"] + [f"threshold {t:g}" for t in claims.CONVERGENCE_SWEEP], [[k, *v] for k, v in wide.items()]


def render(rec: ByRegime, link: str) -> str:
    """The report's section: the regimes, the paper-like choice, each claim's verdict per regime, the test
    error per regime, the controls and what they changed, the threshold sweep (each verdict's numbers
    against its thresholds are in the notebook)."""
    out = ["## Every claim in each regime", "", f"Notebook: {link}. The regimes, fixed before their runs "
           "(`resdyn/core/claims/rules.py`):", ""]
    out += [f"- **{claims.regime_name(name)}** (`{name}`): {text}." for name, text in _items(rec.regimes)]
    out += ["", "The paper-like regime's details, chosen on validation accuracy (separate weights, the first seed): "
            + "; ".join(f"weight scale {c.init_scale:g}, learning rate {c.lr:g} {c.schedule}: {pct(c.val_acc)} in {c.epochs} epochs"
                        + (" (chosen)" if c.chosen else "") for c in rec.choice) + ".", ""]
    out += ["Each claim's verdict over the regime's seeds (the rule `seeds` of the appendix):", ""]
    out.append(table(*claim_table(rec)))
    out += ["", where_claims_hold(rec), "", accuracy_by_regime(rec)]
    changed = changed_by_controls(rec)
    out += ["", "The notebook gives the controls that can meet the tests (rules `shuffled_control` and `mlp_control`) "
            "seed by seed. Seed verdicts the controls changed"
            + (":\n\n" + "\n".join(f"- {c}" for c in changed) if changed else ": none."), ""]
    out += ["The adaptive rule run to convergence with other thresholds (rule `convergence`; shared weights): "
            "final depth per seed (c: censored), and the accuracy change in points, mean [95 % interval]:", ""]
    out.append(table(*_sweep_by_regime(rec)))
    return "\n".join(out + [""])
