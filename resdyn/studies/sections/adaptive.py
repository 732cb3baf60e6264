"""Adaptive depth (notebook 04): the paper's rule during training, on both kinds of weights.

After each epoch but the last, if c = mean |y(T) - y(T-1)| on a probe set is under the threshold,
the last layer goes (:mod:`resdyn.core.pruning`). The steps, as notebook 04 runs them: :func:`nets` (the
adaptive runs, the unpruned nets, the from-scratch control, the probe, one call), :func:`adaptive_net`
per run, :func:`resdyn.core.pruning.criterion_profile` per unpruned net, :func:`lesion`, then
:func:`record`. :func:`measure` composes them for any runs; :func:`run` gets them from a
:class:`resdyn.studies.experiment.Setup`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.studies.experiment import DEPTH
from resdyn.studies.markdown import pct
from resdyn.core.model import DenseResNet
from resdyn.core.pruning import AdaptiveDepthConfig, criterion_profile, probe_set, remove_last_layers, stop_depth
from resdyn.core.train import FitResult, accuracy
from resdyn.studies.sections.common import censored_depth, trained_nets


@dataclass(frozen=True)
class AdaptiveNet:
    """One adaptive-depth run and the unpruned net trained the same way.

    initial_criterion: before training; history[i]["criterion"]: after epoch i+1 (no removal after
    the last). always_below: the criterion was under the threshold at every check, so a layer went
    at every check and the depth was set by the number of epochs; censored: the run ended while
    the rule was still removing (the criterion after the last epoch, or at every check, under the
    threshold), so the final depth is not where the dynamics stop pruning."""

    initial_depth: int
    final_depth: int
    test_acc: float
    val_acc: float
    full_test_acc: float
    train_seconds: float
    full_train_seconds: float
    epochs: int
    initial_criterion: float
    always_below: bool
    censored: bool
    history: list[dict]
    pruning: list[dict]


@dataclass(frozen=True)
class CriterionProfile:
    """The criterion between every pair of successive layers of a trained 15-layer net, c(t) for
    t = 2..T (entry t-2), on the probe set; ``stop_depth``: where repeated checks would stop."""

    criterion: list[float]
    stop_depth: int


@dataclass(frozen=True)
class Scratch:
    """The control: a shared-weights net of the adaptive run's final depth, trained from scratch."""

    depth: int
    test_acc: float
    val_acc: float
    train_seconds: float


@dataclass(frozen=True)
class LesionRow:
    """The trained unpruned shared net cut to ``depth`` without retraining, plain and with the removed
    layers' mean residual folded into the read-out bias (validation accuracy)."""

    depth: int
    val_acc: float
    val_acc_folded: float


@dataclass(frozen=True)
class AdaptiveDepth:
    """Section ``adaptive``: the paper's algorithm on both kinds of weights, the criterion profile of
    the trained 15-layer nets, the from-scratch control and the lesion check."""

    threshold: float
    probe_size: int
    seed: int
    nets: dict[str, AdaptiveNet]
    profiles: dict[str, CriterionProfile]
    scratch: Scratch
    lesion: list[LesionRow]

    SECTION: ClassVar[str] = "adaptive"


def adaptive_net(a: FitResult, full: FitResult, threshold: float, min_depth: int) -> AdaptiveNet:
    """:class:`AdaptiveNet` of adaptive run ``a`` and the unpruned net ``full``."""
    always, censored = censored_depth([r.criterion for r in a.history], threshold, min_depth, a.model.depth)
    return AdaptiveNet(initial_depth=full.model.depth, final_depth=a.model.depth, test_acc=a.test_acc,
                       val_acc=a.val_acc, full_test_acc=full.test_acc, train_seconds=a.seconds,
                       full_train_seconds=full.seconds, epochs=len(a.history), initial_criterion=a.initial_criterion,
                       always_below=always, censored=censored, history=[r.to_dict() for r in a.history],
                       pruning=[p.to_dict() for p in a.pruning])


@dataclass(frozen=True)
class Nets:
    """What the section measures: the adaptive ``runs`` and the unpruned 15-layer nets ``full`` trained
    the same way (keyed by the kind of weights), the from-scratch ``scratch`` net at the shared run's
    final depth, the criterion's ``probe`` inputs, the validation split ``val`` (for the lesion) and
    the rule's settings ``config``."""

    runs: dict[str, FitResult]
    full: dict[str, FitResult]
    scratch: FitResult
    probe: torch.Tensor
    val: Split
    config: AdaptiveDepthConfig


def nets(exp) -> Nets:
    """Adaptive-depth training for both kinds of weights, the unpruned nets, and the shared run's
    final depth trained from scratch (each trained, or from the cache)."""
    full = trained_nets(exp)
    runs = dict(zip(NETS, exp.train(*(exp.job(shared=(net == "shared"), adaptive=True) for net in NETS))))
    cfg = exp.adaptive_config()
    scratch = exp.net(shared=True, depth=runs["shared"].model.depth)
    return Nets(runs, full, scratch, probe_set(exp.data.train, cfg, seed=exp.seed), exp.data.val, cfg)


def describe(runs: dict[str, AdaptiveNet]) -> str:
    """One line per adaptive run: its depths and test accuracy against the unpruned net's."""
    return "\n".join(f"{net:8s}: depth {a.initial_depth} -> {a.final_depth}{' (censored)' if a.censored else ''}, "
                     f"test accuracy {a.test_acc:.4f} (unpruned: {a.full_test_acc:.4f})" for net, a in runs.items())


def record(n: Nets, runs: dict[str, AdaptiveNet], criteria: dict[str, torch.Tensor], lesion_rows: list[LesionRow], *,
           seed: int) -> AdaptiveDepth:
    """The record of the adaptive ``runs`` (:func:`adaptive_net`), the ``criteria``
    (:func:`resdyn.core.pruning.criterion_profile` of each unpruned net), the from-scratch net of ``n``
    and the lesion."""
    cfg, sc = n.config, n.scratch
    profiles = {net: CriterionProfile(criterion=c.tolist(), stop_depth=stop_depth(c, cfg)) for net, c in criteria.items()}
    return AdaptiveDepth(threshold=cfg.threshold, probe_size=cfg.probe_size, seed=seed, nets=runs, profiles=profiles,
                         scratch=Scratch(depth=sc.model.depth, test_acc=sc.test_acc, val_acc=sc.val_acc,
                                         train_seconds=sc.seconds), lesion=lesion_rows)


def measure(runs: dict[str, FitResult], full: dict[str, FitResult], scratch: FitResult, probe: torch.Tensor,
            val: Split, *, adaptive: AdaptiveDepthConfig, seed: int, log=print) -> AdaptiveDepth:
    """The section from adaptive ``runs`` and the unpruned nets ``full`` trained the same way (same
    keys), the from-scratch ``scratch`` net at the shared run's final depth, the criterion ``probe``
    and the validation split ``val`` (for the lesion); ``adaptive``: the rule's settings."""
    done = {net: adaptive_net(runs[net], full[net], adaptive.threshold, adaptive.min_depth) for net in runs}
    log(describe(done))
    criteria = {net: criterion_profile(full[net].model, probe) for net in runs}
    return record(Nets(runs, full, scratch, probe, val, adaptive), done, criteria,
                  lesion(full["shared"].model, val, probe), seed=seed)


def run(exp, *, log=print) -> AdaptiveDepth:
    """Adaptive-depth training for both kinds of weights, the criterion profile of the unpruned
    nets, the final depth trained from scratch (shared), and the lesion of the unpruned shared net."""
    n = nets(exp)
    return measure(n.runs, n.full, n.scratch, n.probe, n.val, adaptive=n.config, seed=exp.seed, log=log)


def verdicts(rec: AdaptiveDepth) -> list[claims.Verdict]:
    return claims.adaptive_depth(rec)


def lesion(model: DenseResNet, split: Split, probe: torch.Tensor) -> list[LesionRow]:
    """``model`` cut to every depth 1..T without retraining: accuracy on ``split`` (validation)
    plain and with the removed residuals' mean on ``probe`` folded into the read-out bias."""
    rows = []
    for d in range(1, model.depth + 1):
        if d == model.depth:
            acc = acc_f = accuracy(model, split)
        else:
            cut, _ = remove_last_layers(model, model.depth - d)
            folded, _ = remove_last_layers(model, model.depth - d, fold_probe=probe)
            acc, acc_f = accuracy(cut, split), accuracy(folded, split)
        rows.append(LesionRow(depth=d, val_acc=acc, val_acc_folded=acc_f))
    return rows


def render(ad: AdaptiveDepth, link: str) -> str:
    """The report's section: both runs, the criterion profile, the control, the lesion (the epochs are in the notebook)."""
    out = ["## Adaptive depth", "", f"Notebook: {link}. "
           f"Criterion: mean over {ad.probe_size} training samples and all neurons of |y(T) - y(T-1)|, recorded before "
           f"training and after every epoch; threshold {ad.threshold}; at most one layer removed per check, none after "
           "the last epoch (so the final net is trained at its depth).", ""]
    for net in NETS:
        n = ad.nets[net]
        out += [f"**{net} weights**: final depth {n.final_depth} of {n.initial_depth}"
                f"{' (censored)' if n.censored else ''}, test accuracy {pct(n.test_acc)} against {pct(n.full_test_acc)} "
                f"for the unpruned net trained the same way ({100 * (n.test_acc - n.full_test_acc):+.2f} points); "
                f"criterion before training {n.initial_criterion:.1e}"
                + ("; it was below the threshold at every check, so a layer went after every epoch." if n.always_below
                   else "."), ""]
        out[-2] += " Depth per epoch: " + " ".join(str(h["depth"]) for h in n.history) + "."
    out.append(f"Criterion between successive layers of the trained {DEPTH}-layer nets, c(t) for t = 2..{DEPTH} (on "
               "the probe set): " + "; ".join(f"{net} from {ad.profiles[net].criterion[0]:.4f} to "
                                              f"{ad.profiles[net].criterion[-1]:.4f}, repeated checks stop at depth "
                                              f"{ad.profiles[net].stop_depth}" for net in NETS)
               + ". The notebook gives it layer by layer.")
    sc, sh = ad.scratch, ad.nets["shared"]
    out += ["", f"Control: a shared-weights net of depth {sc.depth} trained from scratch with the same regime reaches "
            f"{pct(sc.test_acc)} in {sc.train_seconds:.0f} s of training; the adaptive run {pct(sh.test_acc)} in "
            f"{sh.train_seconds:.0f} s, the {sh.initial_depth}-layer net {pct(sh.full_test_acc)} in {sh.full_train_seconds:.0f} s.", "",
            "Lesion check (remove the last layers of the trained unpruned shared net, no retraining): validation "
            "accuracy by depth kept, " + ", ".join(f"{row.depth}: {pct(row.val_acc)}" for row in ad.lesion)
            + "; with the removed residuals folded into the bias, "
            + ", ".join(f"{row.depth}: {pct(row.val_acc_folded)}" for row in ad.lesion) + "."]
    return "\n".join(out + [""])
