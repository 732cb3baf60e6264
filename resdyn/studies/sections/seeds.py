"""One seed is an anecdote: every headline number over several seeds, with 95 % t-intervals.

A seed fixes the initialization, the shuffling, the analysis samples, the probe set, t-SNE and the
cross-validation folds. :func:`seed_run` computes one seed's headline numbers and verdicts with the
same functions as the paper notebooks (:mod:`resdyn.studies.sections`); :func:`run` runs the seeds side
by side (:mod:`resdyn.lib.parallel`) and summarizes them (section ``seeds``, notebook 05).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.studies.experiment import Setup, paper_jobs, setup
from resdyn.studies.markdown import table
from resdyn.core.model import check_seed
from resdyn.studies.sections import adaptive, fig1ab, fig1c, fig1d
from resdyn.studies.sections.common import Interval, t_interval
from resdyn.studies.verdict_text import LABEL, and_list, claim_name, claim_phrases, listed

#: The headline numbers: key -> what it is. Settling layers are None where a net never settles.
#: The last epochs whose validation error gives a net's epoch-to-epoch swing (:func:`epoch_swing`).
SWING_EPOCHS = 5
METRICS = {
    **{f"error_{n}": f"test error, {n} weights (%)" for n in NETS},
    **{f"mean_layer_{n}": f"Fig. 1A settling layer, {n}" for n in NETS},
    **{f"std_layer_{n}": f"Fig. 1B settling layer, {n}" for n in NETS},
    **{f"std_layer_untrained_{n}": f"Fig. 1B settling layer, untrained {n} (control)" for n in NETS},
    **{f"{k}_layer_absolute_{n}": f"Fig. 1{fig} settling layer on the paper's absolute scale, {n}"
       for k, fig in (("mean", "A"), ("std", "B")) for n in NETS},
    **{f"{k}_layer_absolute_untrained_{n}": f"Fig. 1{fig} settling layer on the paper's absolute scale, untrained {n} "
       "(control)" for k, fig in (("mean", "A"), ("std", "B")) for n in NETS},
    **{f"distance_ratio_{n}": f"Fig. 1C within/between ratio, mean over classes, {n}" for n in NETS},
    **{f"distance_margin_{n}": f"Fig. 1C margin: the better control's ratio minus the trained one, {n}" for n in NETS},
    **{f"knn_{n}": f"Fig. 1D kNN accuracy, {n}" for n in NETS},
    **{f"silhouette_{n}": f"Fig. 1D silhouette, {n}" for n in NETS},
    **{f"knn_margin_{n}": f"Fig. 1D kNN margin over the better control, {n}" for n in NETS},
    **{f"silhouette_margin_{n}": f"Fig. 1D silhouette margin over the better control, {n}" for n in NETS},
    **{f"adaptive_depth_{n}": f"adaptive final depth, {n}" for n in NETS},
    **{f"adaptive_change_{n}": f"adaptive accuracy change against the unpruned net, {n} (points)" for n in NETS},
    **{f"adaptive_censored_{n}": f"adaptive depth censored, {n} (1 = yes)" for n in NETS},
    **{f"val_swing_{n}": f"epoch-to-epoch swing of the validation error over the last {SWING_EPOCHS} epochs, {n} "
       "(points; the largest change between consecutive epochs)" for n in NETS},
    "scratch_error": "from-scratch control at the adaptive depth, test error (%)",
    "scratch_minus_adaptive": "from-scratch minus adaptive test accuracy, shared (points)",
}


@dataclass(frozen=True)
class SeedRun:
    """One seed: its headline numbers (keys of :data:`METRICS`) and its verdicts (claim key -> verdict)."""

    seed: int
    numbers: dict[str, float | None]
    verdicts: dict[str, str]


@dataclass(frozen=True)
class SeedsSection:
    """Section ``seeds``: every seed's numbers and verdicts, each number's interval, and per claim
    the number of seeds whose verdict is "holds"."""

    seeds: list[int]
    runs: list[SeedRun]
    summary: dict[str, Interval]
    holds: dict[str, int]
    wall_seconds: float

    SECTION: ClassVar[str] = "seeds"

    def frame(self):
        """Every number per seed with its mean and 95 % interval, as a DataFrame; one row per number,
        named in words (:data:`METRICS`; a key that an older record has and the table lacks as itself)."""
        import pandas as pd

        frame = pd.DataFrame({METRICS.get(m, m): {**{f"seed {s}": v for s, v in zip(self.seeds, iv.values)},
                                                  "mean": iv.mean, "low": iv.low, "high": iv.high}
                              for m, iv in self.summary.items()}).T
        frame.index.name = "number"
        return frame


def headline(fig1ab, fig1c, fig1d, adaptive) -> dict[str, float | None]:
    """The :data:`METRICS` of one seed's four paper sections."""
    return {**figure_numbers(fig1ab, fig1c, fig1d), **adaptive_numbers(adaptive)}


def figure_numbers(fig1ab, fig1c, fig1d) -> dict[str, float | None]:
    """The :data:`METRICS` of the accuracy and Fig. 1A-1D sections."""
    out: dict[str, float | None] = {}
    for n in NETS:
        out[f"error_{n}"] = 100 * (1 - fig1ab.nets[n].test_acc)
        out[f"mean_layer_{n}"] = fig1ab.trained[n].profile.mean_layer
        out[f"std_layer_{n}"] = fig1ab.trained[n].profile.std_layer
        out[f"std_layer_untrained_{n}"] = fig1ab.untrained[n].profile.std_layer
        for k in ("mean", "std"):
            out[f"{k}_layer_absolute_{n}"] = getattr(fig1ab.trained[n].profile.sensitivity, f"{k}_layer_absolute")
            out[f"{k}_layer_absolute_untrained_{n}"] = getattr(fig1ab.untrained[n].profile.sensitivity,
                                                               f"{k}_layer_absolute")
        ratio = fig1c.trained[n].mean_ratio
        out[f"distance_ratio_{n}"] = ratio
        out[f"distance_margin_{n}"] = claims.distance_control(fig1c, n) - ratio
        s, controls = fig1d.trained[n], claims.tsne_controls(fig1d, n)
        out[f"knn_{n}"], out[f"silhouette_{n}"] = s.knn_accuracy, s.silhouette
        out[f"knn_margin_{n}"] = s.knn_accuracy - max(c.knn_accuracy for c in controls)
        out[f"silhouette_margin_{n}"] = s.silhouette - max(c.silhouette for c in controls)
        out[f"val_swing_{n}"] = epoch_swing(fig1ab.nets[n].history)
    return out


def epoch_swing(history: list[dict], *, last: int = SWING_EPOCHS) -> float | None:
    """The largest change of the validation error (points) between consecutive epochs among the ``last``
    epochs of ``history`` (dicts with ``val_acc``): how much the number read at one epoch could move at
    the next, beside a seed interval. None with fewer than two epochs."""
    errors = [100 * (1 - h["val_acc"]) for h in history[-last:]]
    return max((abs(b - a) for a, b in zip(errors, errors[1:])), default=None)


def adaptive_numbers(adaptive) -> dict[str, float | None]:
    """The :data:`METRICS` of the adaptive-depth section."""
    out: dict[str, float | None] = {}
    for n in NETS:
        a = adaptive.nets[n]
        out[f"adaptive_depth_{n}"] = a.final_depth
        out[f"adaptive_change_{n}"] = 100 * (a.test_acc - a.full_test_acc)
        out[f"adaptive_censored_{n}"] = float(a.censored)
    out["scratch_error"] = 100 * (1 - adaptive.scratch.test_acc)
    out["scratch_minus_adaptive"] = 100 * (adaptive.scratch.test_acc - adaptive.nets["shared"].test_acc)
    return out


def seed_run(exp: Setup, *, adaptive_exp: Setup | None = None) -> SeedRun:
    """One seed's headline numbers and verdicts, from the paper notebooks' section functions; the
    adaptive section on ``adaptive_exp``'s nets where given (the same seed trained otherwise, e.g.
    to convergence: :mod:`resdyn.studies.sections.by_regime`)."""
    records = {"fig1ab": fig1ab.run(exp), "fig1c": fig1c.run(exp), "fig1d": fig1d.run(exp),
               "adaptive": adaptive.run(adaptive_exp or exp, log=lambda *a: None)}
    verdicts = (fig1ab.verdicts(records["fig1ab"]) + fig1c.verdicts(records["fig1c"]) + fig1d.verdicts(records["fig1d"])
                + adaptive.verdicts(records["adaptive"]))
    return SeedRun(seed=exp.seed, numbers=headline(**records), verdicts={v.key: v.verdict for v in verdicts})


def summarize(runs: list[SeedRun], *, wall_seconds: float = 0.0) -> SeedsSection:
    """The :class:`SeedsSection` of some seeds' runs."""
    keys = runs[0].verdicts.keys()
    return SeedsSection(seeds=[r.seed for r in runs], runs=runs,
                        summary={m: t_interval([r.numbers[m] for r in runs]) for m in METRICS},
                        holds={k: sum(r.verdicts[k] == "holds" for r in runs) for k in keys},
                        wall_seconds=wall_seconds)


def _one_seed(seed: int, quick: bool, data_root: str | None, threads: int) -> SeedRun:
    return seed_run(setup(quick=quick, seed=seed, data_root=data_root, threads=threads, verbose=False))


def run(seeds: list[int], *, quick: bool = False, data_root: str | None = None,
        workers: int | None = None) -> SeedsSection:
    """Train every seed's nets side by side, then compute each seed's numbers (also side by side,
    one thread per worker) and summarize them."""
    from joblib import Parallel, delayed

    from resdyn.lib.parallel import plan, pool_options, train_many

    if not isinstance(seeds, (list, tuple)):
        raise ValueError(f"seeds must be a list of at least two different integers, got {seeds!r}.")
    for i, s in enumerate(seeds):
        check_seed(s, f"seeds[{i}]")
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise ValueError(f"seeds must be a list of at least two different integers, got {seeds!r}.")
    t0 = time.perf_counter()
    exps = [setup(quick=quick, seed=s, data_root=data_root, verbose=False) for s in seeds]
    train_many([job for exp in exps for job in paper_jobs(exp, sweep=False)], workers=workers)
    n, threads = plan(len(seeds), workers=workers)
    if quick:  # quick runs are pinned to one thread whatever the plan (resdyn.studies.experiment.QUICK_THREADS)
        threads = 1
    runs = Parallel(n_jobs=n, **pool_options())(delayed(_one_seed)(s, quick, data_root, threads) for s in seeds)
    return summarize(runs, wall_seconds=time.perf_counter() - t0)


def verdicts(s: SeedsSection) -> list[claims.Verdict]:
    """:data:`resdyn.core.claims.SEEDS` for every claim the seeds judge (:func:`resdyn.core.claims.over_seeds`)."""
    return claims.over_seeds(s)


def render(s: SeedsSection, link: str) -> str:
    """The report's section: which conclusions survive the seeds, and each claim's verdicts per seed (the
    numbers per seed are in the notebook)."""
    out = ["## Seeds", "", f"Notebook: {link}. Seeds {', '.join(map(str, s.seeds))}, each the whole paper "
           f"analysis ({s.wall_seconds / 60:.0f} min for all, side by side). The notebook gives every number per "
           "seed, with its mean and 95 % t-interval.", ""]
    n = len(s.seeds)
    groups = {"in every seed": [k for k, v in s.holds.items() if v == n],
              "in some seeds only": [k for k, v in s.holds.items() if 0 < v < n],
              "in no seed": [k for k, v in s.holds.items() if v == 0]}
    counts = [f"{len(keys)} hold{'s' * (len(keys) == 1)} {what}" for what, keys in groups.items()]
    said = [sentence for what, keys in groups.items() if keys for sentence in listed(f"holding {what}", claim_phrases(keys))]
    out += [f"Which conclusions survive the seed spread: of the {len(s.holds)} claims, {and_list(counts)}. " + " ".join(said), ""]
    by_seed = {k: [r.verdicts[k] for r in s.runs] for k in s.holds}
    split = {k: got for k, got in by_seed.items() if len(set(got)) > 1}
    if not split:
        out.append("Every seed gives each claim the same verdict.")
    else:
        out += [f"The seeds give {len(by_seed) - len(split)} of {len(by_seed)} claims the same verdict; the others, "
                "seed by seed:", "", table(["seed"] + [claim_name(k) for k in split],
                                           [[r.seed] + [LABEL[r.verdicts[k]] for k in split] for r in s.runs])]
    return "\n".join(out + [""])
