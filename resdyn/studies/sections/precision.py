"""bf16 against fp32 (notebook 10): does training in bf16 autocast change any number or verdict?

The chosen regime's two 15-layer nets and the adaptive shared run, trained in both precisions for
several seeds; every analysis in fp32, with the paper sections' own functions.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.studies.experiment import setup
from resdyn.studies.markdown import num
from resdyn.studies.sections import fig1ab, fig1c, fig1d
from resdyn.studies.sections.adaptive import adaptive_net
from resdyn.studies.sections.common import trained_nets
from resdyn.studies.sections.seeds import figure_numbers

#: Seeds of the precision comparison.
PRECISION_SEEDS = (0, 1, 2)


def precision_jobs(exp, precision: str) -> list:
    """The nets of the precision comparison for ``exp``'s seed: both 15-layer nets and the adaptive
    shared run, in ``precision``."""
    return [exp.job(shared=False, precision=precision), exp.job(shared=True, precision=precision),
            exp.job(shared=True, adaptive=True, precision=precision)]


@dataclass(frozen=True)
class PrecisionRun:
    """One seed in one precision: the headline numbers it gives and its verdicts."""

    seed: int
    precision: str
    numbers: dict[str, float | None]
    verdicts: dict[str, str]
    epoch_seconds: dict[str, float]


@dataclass(frozen=True)
class PrecisionRow:
    """One number in fp32 and bf16: means over seeds, their difference, and the seed spread (range
    over seeds, the larger of the two precisions'). ``within``: |difference| <= spread."""

    metric: str
    fp32: float | None
    bf16: float | None
    difference: float | None
    spread: float | None
    within: bool


@dataclass(frozen=True)
class PrecisionStudy:
    """Section ``precision``: the chosen regime's two 15-layer nets and the adaptive shared run in fp32
    and bf16 for several seeds; ``moved``: "seed <s>: <claim> <fp32> -> <bf16>" for every verdict that
    differs; ``bf16_ok``: no verdict moved and every number within the seed spread (the condition for
    bf16 to be the default where the processor runs it natively)."""

    seeds: list[int]
    runs: list[PrecisionRun]
    rows: list[PrecisionRow]
    moved: list[str]
    bf16_ok: bool

    SECTION: ClassVar[str] = "precision"


#: The numbers the precision comparison reports (see resdyn.studies.sections.seeds.METRICS), plus the adaptive
#: criterion after every epoch ("criterion_<epoch>").
PRECISION_METRICS = ("error_separate", "error_shared", "mean_layer_separate", "mean_layer_shared", "std_layer_separate",
                     "std_layer_shared", "distance_ratio_separate", "distance_ratio_shared", "knn_separate",
                     "knn_shared", "silhouette_separate", "silhouette_shared", "adaptive_depth_shared",
                     "adaptive_change_shared")


def precision_run(exp, precision: str) -> PrecisionRun:
    """The numbers and verdicts of ``exp``'s seed with training in ``precision``."""
    exp = replace(exp, train_config=replace(exp.train_config, precision=precision))
    s = {"fig1ab": fig1ab.run(exp), "fig1c": fig1c.run(exp), "fig1d": fig1d.run(exp)}
    full, ad = trained_nets(exp)["shared"], exp.train(exp.job(shared=True, adaptive=True))[0]
    a = adaptive_net(ad, full, exp.threshold, exp.adaptive_config().min_depth)
    numbers = {k: v for k, v in figure_numbers(**s).items() if k in PRECISION_METRICS}
    numbers["adaptive_depth_shared"] = a.final_depth
    numbers["adaptive_change_shared"] = 100 * (a.test_acc - a.full_test_acc)
    numbers.update({f"criterion_{h['epoch']}": h["criterion"] for h in a.history})
    verdicts = {v.key: v.verdict for v in fig1ab.verdicts(s["fig1ab"]) + fig1c.verdicts(s["fig1c"])
                + fig1d.verdicts(s["fig1d"])}
    seconds = {n: sum(s["fig1ab"].nets[n].epoch_seconds) / s["fig1ab"].nets[n].epochs for n in NETS}
    return PrecisionRun(seed=exp.seed, precision=precision, numbers=numbers, verdicts=verdicts, epoch_seconds=seconds)


def compare_precisions(runs: list[PrecisionRun]) -> tuple[list[PrecisionRow], list[str]]:
    """Rows of :class:`PrecisionRow` and the verdicts that move between fp32 and bf16."""
    by = {(r.seed, r.precision): r for r in runs}
    seeds = sorted({r.seed for r in runs})
    rows = []
    for m in runs[0].numbers:
        vals = {p: [by[s, p].numbers.get(m) for s in seeds] for p in ("fp32", "bf16")}
        if any(v is None for vs in vals.values() for v in vs):  # e.g. never settles: equal per seed or not
            same = vals["fp32"] == vals["bf16"]
            rows.append(PrecisionRow(m, None, None, None, None, same))
            continue
        mean = {p: sum(v) / len(v) for p, v in vals.items()}
        spread = max(max(v) - min(v) for v in vals.values())
        diff = mean["bf16"] - mean["fp32"]
        within = abs(diff) <= claims.PRECISION_SPREADS * spread + 1e-12
        rows.append(PrecisionRow(m, mean["fp32"], mean["bf16"], diff, spread, within))
    moved = [f"seed {s}: {k} {by[s, 'fp32'].verdicts[k]} -> {by[s, 'bf16'].verdicts[k]}" for s in seeds
             for k in by[s, "fp32"].verdicts if by[s, "fp32"].verdicts[k] != by[s, "bf16"].verdicts[k]]
    return rows, moved


def run(exp, seeds=PRECISION_SEEDS) -> PrecisionStudy:
    """fp32 against bf16 for ``seeds`` (every net trained or read from the cache)."""
    runs = []
    for s in seeds:
        e = setup(quick=exp.quick, seed=s, data_root=exp.data_root, verbose=False)
        e.train(*precision_jobs(e, "fp32"), *precision_jobs(e, "bf16"))
        runs += [precision_run(e, "fp32"), precision_run(e, "bf16")]
    rows, moved = compare_precisions(runs)
    return PrecisionStudy(seeds=list(seeds), runs=runs, rows=rows, moved=moved,
                          bf16_ok=not moved and all(r.within for r in rows))


def what_this_shows(p: PrecisionStudy) -> str:
    """Whether bf16 changes a conclusion, in words (notebook 10's closing paragraph)."""
    outside = [r.metric for r in p.rows if not r.within]
    seeds = ", ".join(map(str, p.seeds[:-1])) + f" and {p.seeds[-1]}" if len(p.seeds) > 1 else str(p.seeds[0])
    out = [f"Over seeds {seeds}, "
           + (f"{len(p.moved)} seed verdict{'s move' if len(p.moved) > 1 else ' moves'} between fp32 and bf16"
              if p.moved else "no verdict moves between fp32 and bf16")
           + (f", and {len(outside)} of {len(p.rows)} numbers leave the seed spread." if outside
              else f", and all {len(p.rows)} numbers stay within the seed spread.")]
    out.append("So bf16 qualifies as the default where the processor computes it natively." if p.bf16_ok else
               "So bf16 does not qualify as the default: the runs stay in fp32.")
    return " ".join(out)


def render(p: PrecisionStudy, link: str) -> str:
    """The report's section: the numbers and the verdicts that move (every number is in the notebook)."""
    out = ["## bf16 against fp32", "", f"Notebook: {link}. The chosen regime's two 15-layer nets and the "
           f"adaptive shared run, trained in fp32 and in bf16 autocast, seeds {', '.join(map(str, p.seeds))}; every "
           "analysis in fp32. A number moves if its fp32-bf16 difference of means exceeds the seed spread (the larger "
           "range over seeds of the two precisions).", ""]
    moved = [r for r in p.rows if not r.within]
    out.append(f"{len(p.rows) - len(moved)} of {len(p.rows)} numbers stay within the seed spread"
               + (": every one." if not moved else "; outside it: " + "; ".join(
                   f"{r.metric} {num(r.fp32, '{:.4g}')} in fp32, {num(r.bf16, '{:.4g}')} in bf16 (spread "
                   f"{num(r.spread, '{:.3g}')})" for r in moved) + ".")
               + " The notebook gives every number in both precisions.")
    out[-1] += (" Verdicts that move: " + ("; ".join(p.moved) if p.moved else "none") + ". bf16 qualifies as the "
                f"default where the processor runs it natively: **{'yes' if p.bf16_ok else 'no'}**.")
    out.append("")
    return "\n".join(out)
