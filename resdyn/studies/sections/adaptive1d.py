"""MNIST-1D, part 3: the paper's adaptive rule where depth matters.

Each family trains from ``study.depth`` blocks under the paper's rule (after every epoch, while
mean |y(T) - y(T-1)| on a probe of training inputs is below the threshold, the last block goes),
until the validation loss stops improving (:func:`resdyn.lib.fitting.fit_classifier`): the paper's
threshold 0.01 on every seed, a sweep of thresholds on the first. Beside each run: the deep net
trained without the rule, the net trained from scratch at the run's final depth, the criterion of
the untrained net (below the threshold there, the rule removes blocks whatever is learned), and
the compute of each (multiply-adds of all training steps, counted by
``torch.utils.flop_counter``). :data:`resdyn.core.claims.ADAPTIVE_KEEPS` judges the paper's threshold.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from resdyn.core import claims
from resdyn.core.claims import Verdict
from resdyn.lib.fitting import TrainedNet, evaluate
from resdyn.studies.markdown import table
from resdyn.lib.parallel import train_many
from resdyn.core.pruning import PAPER_THRESHOLD
from resdyn.studies.regimes import Study1d
from resdyn.lib.surgery import block_criterion, stage_length
from resdyn.studies.sections.common import Interval, t_interval
from resdyn.studies.sections.depth1d import net_job, study_nets


def multiply_adds(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of one forward pass of ``model`` on one input like ``x[:1]`` (FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.eval()(x[:1])
    return counter.get_total_flops() // 2


def training_macs(family_macs: dict[int, int], depths_by_epoch: list[int], n_train: int) -> float:
    """Multiply-adds of training: per epoch n_train x 3 (forward and backward) x one forward's at that epoch's depth."""
    return float(sum(3 * n_train * family_macs[d] for d in depths_by_epoch))


@dataclass(frozen=True)
class AdaptiveRun:
    """One adaptive run: family, seed, threshold, final depth, test accuracy (%), epochs, the removals
    (epoch, depth after, criterion), the untrained net's criterion and the criterion at the last check,
    whether it ended at the minimum
    depth or ran out of epochs (censored), and its training multiply-adds."""

    family: str
    seed: int
    threshold: float
    final_depth: int
    test_acc: float
    epochs: int
    removed: list[dict[str, Any]]
    initial_criterion: float
    final_criterion: float
    censored: bool
    macs: float


@dataclass(frozen=True)
class FamilyAdaptive:
    """One family at the paper's threshold over seeds: the final depths, the adaptive nets' test accuracy
    minus the deep nets' (points, Interval) and the from-scratch nets at the final depths (test accuracy %,
    per seed). Beside them the compute (multiply-adds of training, per seed) of the adaptive run, the deep
    net, the net from scratch at the final depth, and growing from shallow (each shallower ladder depth
    trained fully first, then the final depth from scratch, as notebook 08 counts it)."""

    final_depths: list[int]
    change: Interval
    scratch_acc: list[float]
    deep_acc: list[float]
    macs: dict[str, list[float]]
    untrained_below: int
    removed_any: bool


@dataclass(frozen=True)
class Adaptive1d:
    """Section ``adaptive1d``: every adaptive run and, per family, the paper's threshold over seeds."""

    SECTION: ClassVar[str] = "adaptive1d"

    runs: list[AdaptiveRun]
    families: dict[str, FamilyAdaptive]
    threshold: float
    wall_seconds: float


def measure(study: Study1d, adaptive: list[TrainedNet], ladder: list[TrainedNet], scratch: dict, data, *,
            wall_seconds: float = 0.0) -> Adaptive1d:
    """The record from the adaptive nets, the ladder's deep nets and ``scratch`` {(family, depth, seed): net}."""
    n_train = len(data.train)
    deep = {(n.job.family, n.job.seed): n for n in ladder if n.job.depth == study.depth}
    macs_cache: dict[str, dict[int, int]] = {}

    def macs_of(net: TrainedNet) -> dict[int, int]:
        f = net.job.family
        if f not in macs_cache:
            macs_cache[f] = {d: multiply_adds(net.job.build(d), data.val.x) for d in range(1, study.depth + 1)}
        return macs_cache[f]

    runs = []
    for n in adaptive:
        untrained = block_criterion(n.job.build(), n.job.probe(data))
        final, depth = n.model, stage_length(n.model)
        runs.append(AdaptiveRun(
            family=n.job.family, seed=n.job.seed, threshold=n.job.adaptive.threshold, final_depth=depth,
            test_acc=100 * evaluate(final, data.test)[1], epochs=len(n.history), removed=n.removed,
            initial_criterion=untrained, final_criterion=n.history[-1]["criterion"], censored=depth <= 2 or not n.history[-1].get("stopped", False),
            macs=training_macs(macs_of(n), [h["depth"] for h in n.history], n_train)))
    families = {}
    for f in study.families:
        paper_runs = [r for r in runs if r.family == f and r.threshold == PAPER_THRESHOLD]
        deep_acc = [100 * evaluate(deep[f, r.seed].model, data.test)[1] for r in paper_runs]
        scratch_nets = [scratch[f, r.final_depth, r.seed] for r in paper_runs]
        families[f] = FamilyAdaptive(
            final_depths=[r.final_depth for r in paper_runs],
            change=t_interval([r.test_acc - d for r, d in zip(paper_runs, deep_acc)]),
            scratch_acc=[100 * evaluate(s.model, data.test)[1] for s in scratch_nets], deep_acc=deep_acc,
            macs={"adaptive": [r.macs for r in paper_runs],
                  "deep": [training_macs(macs_of(deep[f, r.seed]), [h["depth"] for h in deep[f, r.seed].history], n_train)
                           for r in paper_runs],
                  "scratch": [training_macs(macs_of(s), [h["depth"] for h in s.history], n_train) for s in scratch_nets],
                  "growing": [sum(training_macs(macs_of(n), [h["depth"] for h in n.history], n_train) for n in ladder
                                  if n.job.family == f and n.job.seed == r.seed and n.job.depth < r.final_depth)
                              + training_macs(macs_of(s), [h["depth"] for h in s.history], n_train)
                              for r, s in zip(paper_runs, scratch_nets)]},
            untrained_below=sum(r.initial_criterion < r.threshold for r in paper_runs),
            removed_any=any(r.final_depth < study.depth for r in paper_runs))
    return Adaptive1d(runs=runs, families=families, threshold=PAPER_THRESHOLD, wall_seconds=wall_seconds)


def run(exp, *, progress: bool = True) -> Adaptive1d:
    """Section ``adaptive1d`` of ``exp``'s mode: the study's adaptive nets, and the from-scratch nets
    at their final depths (trained here where the ladder lacks them)."""
    start = time.perf_counter()
    study = exp.study1d
    nets = study_nets(study, progress=progress)
    paper = [n for n in nets.adaptive if n.job.adaptive.threshold == PAPER_THRESHOLD]
    jobs = [net_job(study, n.job.family, stage_length(n.model), n.job.seed, nets.lrs[n.job.family], init=n.job.init)
            for n in paper]
    scratch = {(j.family, j.depth, j.seed): n for j, n in zip(jobs, train_many(jobs, progress=progress))}
    return measure(study, nets.adaptive, nets.ladder, scratch, study.data.load(), wall_seconds=time.perf_counter() - start)


def verdicts(record: Adaptive1d) -> list[Verdict]:
    """:data:`resdyn.core.claims.ADAPTIVE_KEEPS` per family."""
    return [claims.adaptive_keeps(f, r.change, removed_any=r.removed_any, untrained_below=r.untrained_below,
                                  n_seeds=len(r.final_depths)) for f, r in record.families.items()]


def _body(record: Adaptive1d) -> list[str]:
    rows = []
    for f, r in record.families.items():
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        deep = mean(r.macs["deep"])
        rows.append((f, ", ".join(map(str, r.final_depths)), f"{r.change.mean:+.2f}", f"{mean(r.deep_acc):.1f}",
                     f"{mean(r.scratch_acc):.1f}", *(f"{mean(r.macs[k]) / deep:.2f}" for k in ("adaptive", "scratch", "growing"))))
    thresholds = sorted({r.threshold for r in record.runs})
    censored = sum(r.censored for r in record.runs)
    return [f"Threshold {record.threshold:g}, over seeds: final depths, the adaptive net's test accuracy minus the "
            "deep net's (points), the deep and the from-scratch nets' accuracy (%), and the training multiply-adds of "
            "the adaptive run, of the net from scratch at the final depth and of growing from shallow, each over the "
            "deep net's (means over seeds). "
            f"Every run, with the threshold sweep ({', '.join(f'{t:g}' for t in thresholds)}) on the first seed: "
            f"final depths {', '.join(map(str, sorted({r.final_depth for r in record.runs})))}; {censored} of "
            f"{len(record.runs)} censored.", "",
            table(["family", "final depths", "change", "deep", "from scratch", "compute: adaptive", "from scratch",
                   "growing"], rows), ""]


def body(record: Adaptive1d) -> str:
    """Final depths, accuracy and compute per family, as notebook 14 shows them above its verdicts: the report's
    section without its heading, its link and its verdicts."""
    return "\n".join(_body(record))


def render(record: Adaptive1d, link: str) -> str:
    """The report's section: final depths, accuracy against the deep and from-scratch nets, compute, verdicts."""
    first, *rest = _body(record)
    out = ["## MNIST-1D: the adaptive rule where depth matters", "", f"Notebook: {link}. {first} The notebook lists "
           "each run.", *rest,
           table(["claim", "ours", "controls", "verdict"],
                 [(v.claim, v.ours, v.controls, f"**{v.verdict}**") for v in verdicts(record)]), ""]
    return "\n".join(out)
