"""Depth from scratch, and what adaptive depth costs (notebook 08).

Accuracy against depth for nets trained from scratch (both kinds of weights), the adaptive runs on
that curve, the compute (multiply-adds) of three ways to a net of the adaptive run's final depth,
and adaptive runs with longer budgets. The nets are the paper's, trained through the experiment's
cache, so :func:`run` is the one entry point; :func:`training_multiply_adds` is the reusable part.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from resdyn.core.claims import NETS
from resdyn.studies.markdown import pct
from resdyn.studies.sections.adaptive import adaptive_net

#: Depths of the accuracy-against-depth curve.
DEPTHS = (1, 2, 3, 5, 8, 15)
#: Adaptive runs of the shared net with longer budgets, and with no limit on
#: removals per check: (label, epochs, max_removals_per_check).
ADAPTIVE_BUDGETS = (("20 epochs", 20, 1), ("30 epochs", 30, 1), ("10 epochs, unlimited removals", 10, 14))


def budget_job(exp, epochs: int, max_removals: int):
    """An adaptive run of the shared net with another epoch budget or removal limit."""
    return exp.job(shared=True, epochs=epochs,
                   adaptive=replace(exp.adaptive_config(), max_removals_per_check=max_removals))


def training_multiply_adds(result, model_config, n_train: int, probe_size: int = 0) -> int:
    """Multiply-adds of a whole training run (:meth:`ModelConfig.multiply_adds` per sample, at the
    depth each epoch trained at), plus the adaptive checks' forward passes over ``probe_size`` samples."""
    depth, total = model_config.depth, 0
    checks = probe_size * (len(result.history) + 1) if result.adaptive is not None else 0
    for r in result.history:
        total += replace(model_config, depth=depth).multiply_adds(n_train)
        depth = r.depth
    return total + (replace(model_config, depth=max(depth, 1)).multiply_adds(checks, training=False) if checks else 0)


@dataclass(frozen=True)
class DepthRow:
    """A net of the chosen regime trained from scratch at ``depth``."""

    depth: int
    shared: bool
    val_acc: float
    test_acc: float
    train_seconds: float
    multiply_adds: int


@dataclass(frozen=True)
class ComputeRow:
    """One way to arrive at a net of the adaptive run's final depth (shared weights): its training
    cost in multiply-adds and wall seconds, and the test accuracy of the net it ends with."""

    method: str
    depth: int
    multiply_adds: int
    seconds: float
    test_acc: float


@dataclass(frozen=True)
class BudgetRow:
    """An adaptive run of the shared net with an epoch budget and removal limit."""

    label: str
    epochs: int
    max_removals: int
    final_depth: int
    censored: bool
    always_below: bool
    test_acc: float
    depths: list[int]
    criteria: list[float]


@dataclass(frozen=True)
class DepthStudy:
    """Section ``depth``: accuracy against depth (both kinds of weights, from scratch), the adaptive
    runs on that curve, the compute of three ways to a net of the adaptive depth, and adaptive runs
    with longer budgets. ``levels_off``: the depth where the longer budgets agree, uncensored (None:
    they do not)."""

    curve: list[DepthRow]
    adaptive: dict[str, DepthRow]
    compute: list[ComputeRow]
    budgets: list[BudgetRow]
    levels_off: int | None

    SECTION: ClassVar[str] = "depth"


def run(exp) -> DepthStudy:
    """Train (or load) the depth curve and the adaptive budgets; compare the compute of the adaptive
    run with the final depth from scratch and with growing from shallow (train shallower nets fully
    first, then deeper ones, up to the final depth)."""
    n = len(exp.data.train)
    curve_jobs = [exp.job(shared=(net == "shared"), depth=d) for d in DEPTHS for net in NETS]
    curve_results = exp.train(*curve_jobs)
    curve = [DepthRow(j.model.depth, j.model.shared_weights, r.val_acc, r.test_acc, r.seconds,
                      training_multiply_adds(r, j.model, n)) for j, r in zip(curve_jobs, curve_results)]
    ad_jobs = [exp.job(shared=(net == "shared"), adaptive=True) for net in NETS]
    ad = dict(zip(NETS, exp.train(*ad_jobs)))
    adaptive = {net: DepthRow(ad[net].model.depth, net == "shared", ad[net].val_acc, ad[net].test_acc, ad[net].seconds,
                              training_multiply_adds(ad[net], j.model, n, exp.probe_size))
                for net, j in zip(NETS, ad_jobs)}
    final = adaptive["shared"].depth
    scratch_job = exp.job(shared=True, depth=final)
    scratch = exp.train(scratch_job)[0]
    shallow = [row for row in curve if row.shared and row.depth <= final]
    if not any(row.depth >= final for row in shallow):
        shallow.append(DepthRow(final, True, scratch.val_acc, scratch.test_acc, scratch.seconds,
                                training_multiply_adds(scratch, scratch_job.model, n)))
    compute = [
        ComputeRow("adaptive depth from 15 layers", final, adaptive["shared"].multiply_adds, adaptive["shared"].train_seconds,
                   adaptive["shared"].test_acc),
        ComputeRow(f"{final} layers from scratch", final, training_multiply_adds(scratch, scratch_job.model, n),
                   scratch.seconds, scratch.test_acc),
        ComputeRow(f"growing from shallow ({', '.join(str(r.depth) for r in shallow)} layers)", final,
                   sum(r.multiply_adds for r in shallow), sum(r.train_seconds for r in shallow), shallow[-1].test_acc),
    ]
    full = exp.train(exp.job(shared=True))[0]
    budgets = []
    for label, epochs, removals in (("10 epochs (the paper run)", exp.train_config.epochs, 1), *ADAPTIVE_BUDGETS):
        r = exp.train(budget_job(exp, epochs, removals))[0]
        a = adaptive_net(r, full, exp.threshold, exp.adaptive_config().min_depth)
        budgets.append(BudgetRow(label, epochs, removals, a.final_depth, a.censored, a.always_below, a.test_acc,
                                 [h.depth for h in r.history], [h.criterion for h in r.history]))
    longer = [b for b in budgets if b.max_removals == 1 and b.epochs > exp.train_config.epochs]
    levels = {b.final_depth for b in longer}
    levels_off = levels.pop() if len(levels) == 1 and not any(b.censored for b in longer) else None
    return DepthStudy(curve=curve, adaptive=adaptive, compute=compute, budgets=budgets, levels_off=levels_off)


def what_this_shows(d: DepthStudy) -> str:
    """Where the adaptive depth ends and whether longer budgets move it, in words (notebook 08's closing paragraph)."""
    out = ["The adaptive runs of the paper's budget end at "
           + " and ".join(f"depth {r.depth} with {n} weights" for n, r in d.adaptive.items()) + "." if d.adaptive else ""]
    censored = [b.label for b in d.budgets if b.censored]
    if d.levels_off is not None:
        out.append(f"With longer budgets the shared net's final depth levels off at depth {d.levels_off}: there the "
                   "dynamics, not the epoch budget, set it.")
    else:
        out.append("With longer budgets the shared net ends at different depths, or censored, so within these budgets "
                   "the epoch budget, not the dynamics, sets the final depth.")
    if censored:
        out.append(f"Censored runs: {'; '.join(censored)}.")
    return " ".join(o for o in out if o)


def render(d: DepthStudy, link: str) -> str:
    """The report's section: the depth curve in a line per weights, the compute of three ways to the adaptive depth,
    the budgets."""
    out = ["## Depth from scratch, and what adaptive depth costs", "", f"Notebook: {link}.", ""]
    for shared in (False, True):
        pts = [r for r in d.curve if r.shared == shared]
        out.append(f"- {'shared' if shared else 'separate'} weights, test accuracy by depth: "
                   + ", ".join(f"{r.depth}: {pct(r.test_acc)}" for r in pts)
                   + f" ({pts[-1].train_seconds:.0f} s and {pts[-1].multiply_adds / 1e12:.2f}e12 multiply-adds to train "
                   f"depth {pts[-1].depth}).")
    out += ["", "The adaptive runs on that curve: " + "; ".join(
        f"{n} weights end at depth {r.depth} with {pct(r.test_acc)} test accuracy" for n, r in d.adaptive.items()) + ".", "",
        "Three ways to a shared net of the adaptive run's final depth (multiply-adds counted from the layer shapes at "
        "each epoch's depth, checks included; seconds as measured, each net trained in a 1-thread worker):", ""]
    out += [f"- {c.method}: depth {c.depth}, {c.multiply_adds / 1e12:.2f}e12 multiply-adds, {c.seconds:.0f} s, "
            f"{pct(c.test_acc)} test accuracy." for c in d.compute]
    out += ["", "Adaptive runs of the shared net with longer budgets: " + "; ".join(
        f"{b.label}: depth {b.final_depth}{' (censored)' if b.censored else ''}, {pct(b.test_acc)}" for b in d.budgets)
        + ". The notebook gives each run's depth per epoch. Does the final depth level off? " + (f"Yes, at depth {d.levels_off}." if d.levels_off is not None else
            "No: the longer budgets end at different depths, or censored, so within these budgets the depth is set by "
            "the budget, not by the dynamics."), ""]
    return "\n".join(out)
