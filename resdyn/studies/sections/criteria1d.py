"""MNIST-1D, part 2: which blocks can go. The paper's criterion against the field's, with removal as the answer.

For every deep net of the study (each family, each seed; :mod:`resdyn.studies.sections.depth1d`) and for
the paper's two MNIST nets, on the same trajectory (validation inputs):

- each criterion's score per block (:data:`resdyn.lib.removal.CRITERIA`: the paper's c(t), Block
  Influence, angular distance, 1 - CKA of successive states, |y| / |x|);
- the ground truth: test loss and accuracy with each block alone skipped (Veit-style);
- test accuracy after removing k = 1 .. T-1 blocks by each strategy (each criterion's ranking, the
  deepest blocks, Gromov's best span, the greedy oracle on validation), without retraining and after
  the study's healing fine-tune (MNIST nets: without healing only).

Summaries per net: Spearman's rho between each criterion and the measured single-block loss
increase; each strategy's score, the area under its curve over the oracle's; and its area minus
the deepest-first area (points). Per family they go over seeds with bounded intervals, and
:data:`resdyn.core.claims.RANKS_REMOVABLE` judges the paper's criterion against the best peer.

Each net's analysis is cached (``<cache>/removal/<key>.json``) with its settings, so a warm run
reads it.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch

from resdyn.core import claims
from resdyn.core.claims import NETS, Verdict
from resdyn.lib.fitting import HealConfig, TrainedNet
from resdyn.studies.markdown import table
from resdyn.core.paths import cache_dir
from resdyn.lib.removal import (CRITERIA, STRATEGIES, area, criterion_scores, lesion_losses, removal_curves,
                                removal_orders, spearman)
from resdyn.lib.writing import read_json, write_json
from resdyn.studies.sections.common import Interval, bounded, t_interval
from resdyn.studies.sections.depth1d import study_nets

#: Bump when the analysis code changes what a cached analysis would hold.
ANALYSIS_VERSION = 1
#: Validation samples the oracle measures its greedy choices on (MNIST nets: of the 10,000).
ORACLE_SAMPLES = 2000


def analyse(model: torch.nn.Module, data, *, per_token: bool = False, healing: HealConfig | None = None,
            n_criterion: int = 1000, seed: int = 0) -> dict:
    """One net's analysis (module docstring): {"scores", "lesion_loss_increase", "lesion_acc", "base_acc",
    "curves", "spearman", "area", "healed_area"} (curves: {strategy: {"acc": [...], "healed": [...]}})."""
    model = model.eval()
    x = data.val.x[:n_criterion]
    val = type(data.val)(data.val.x[:ORACLE_SAMPLES], data.val.y[:ORACLE_SAMPLES])
    scores = criterion_scores(model, x, per_token=per_token)
    depth = len(scores["paper"])
    lesions = lesion_losses(model, data.test, depth)
    orders = removal_orders(model, scores, x, val, per_token=per_token)
    curves = removal_curves(model, orders, data, healing=healing, seed=seed)
    return {"scores": scores, "lesion_loss_increase": lesions.loss_increase, "lesion_acc": lesions.acc,
            "base_acc": lesions.base_acc, "orders": {k: [list(s) for s in v] for k, v in orders.items()},
            "curves": curves, "spearman": {c: spearman(scores[c], lesions.loss_increase) for c in CRITERIA},
            "area": {s: area(curves[s]["acc"]) for s in STRATEGIES},
            "healed_area": {s: area(curves[s]["healed"]) for s in STRATEGIES} if "healed" in curves["deepest"] else {}}


def cached_analysis(key: str, settings: dict, compute) -> dict:
    """``compute()``, kept in ``<cache>/removal/<key>-<settings hash>.json`` and read from there next time."""
    digest = hashlib.sha256(json.dumps({**settings, "version": ANALYSIS_VERSION}, sort_keys=True,
                                       default=str).encode()).hexdigest()[:12]
    path = cache_dir() / "removal" / f"{key}-{digest}.json"
    if path.exists():
        try:
            return read_json(path)
        except (OSError, ValueError):
            pass  # a damaged file: computed again, the write replaces it
    result = compute()
    write_json(result, path)
    return read_json(path)  # the same JSON values (inf and nan as None) whether computed or read


def _net_analysis(net: TrainedNet, data, healing: HealConfig, n_criterion: int) -> dict:
    per_token = net.job.family == "transformer"
    settings = {"job": net.job.key(), "healing": asdict(healing), "n_criterion": n_criterion, "oracle": ORACLE_SAMPLES}
    return cached_analysis(net.job.key(), settings, lambda: analyse(
        net.model, data, per_token=per_token, healing=healing, n_criterion=n_criterion, seed=net.job.seed))


def analyse_nets(nets: list[TrainedNet], data, healing: HealConfig, n_criterion: int, *, workers: int | None = None
                 ) -> list[dict]:
    """:func:`analyse` of every net, cached, in worker processes where there are several to compute."""
    from resdyn.lib.parallel import plan, pool_options

    n_workers, threads = plan(len(nets), workers=workers)
    if n_workers == 1:
        return [_net_analysis(n, data, healing, n_criterion) for n in nets]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_workers, **pool_options())(
        delayed(_worker)(n, data, healing, n_criterion, threads, str(cache_dir())) for n in nets)


def _worker(net, data, healing, n_criterion, threads, cache):
    import os

    os.environ["RESDYN_CACHE"] = cache
    torch.set_num_threads(threads)
    return _net_analysis(net, data, healing, n_criterion)


# -- the record ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamilyCriteria:
    """One family's comparison over seeds: ``spearman`` {criterion: Interval, Fisher-z, inside [-1, 1]}; ``score``
    and ``score_healed`` {strategy: Interval of area / oracle area, a bootstrap inside the scores' range}; ``minus_deepest`` {strategy: Interval,
    points of area above the deepest-first}; ``curves`` {strategy: {"acc"/"healed": mean test accuracy
    (%) at k = 1 .. T-1}}; ``lesion`` the mean test loss increase per block; ``best_peer`` the peer
    criterion of the highest mean score and ``difference`` the paper's score minus its (Interval)."""

    spearman: dict[str, Interval]
    score: dict[str, Interval]
    score_healed: dict[str, Interval]
    minus_deepest: dict[str, Interval]
    curves: dict[str, dict[str, list[float]]]
    lesion: list[float]
    base_acc: Interval
    best_peer: str
    difference: Interval


@dataclass(frozen=True)
class Criteria1d:
    """Section ``criteria1d``: per MNIST-1D family the comparison over seeds; per MNIST net (one seed,
    no healing) each net's analysis summary; each net's full analysis (scores, lesions, curves)."""

    SECTION: ClassVar[str] = "criteria1d"

    families: dict[str, FamilyCriteria]
    mnist: dict[str, dict[str, Any]]
    nets: list[dict[str, Any]]
    healing: dict[str, Any]
    depth_verdicts: dict[str, str]
    wall_seconds: float


def _mean(rows: list[list[float]]) -> list[float]:
    return [100 * sum(col) / len(col) for col in zip(*rows)]


def summarize(analyses: list[dict]) -> FamilyCriteria:
    """One family's :class:`FamilyCriteria` from its nets' analyses (one per seed)."""
    score = {s: bounded([a["area"][s] / a["area"]["oracle"] for a in analyses], "unit") for s in STRATEGIES}
    healed = {s: bounded([a["healed_area"][s] / a["healed_area"]["oracle"] for a in analyses], "unit")
              for s in STRATEGIES} if analyses[0]["healed_area"] else {}
    peers = [c for c in CRITERIA if c != "paper"]
    best = max(peers, key=lambda c: (score[c].mean, -peers.index(c)))
    curves = {s: {kind: _mean([a["curves"][s][kind] for a in analyses]) for kind in analyses[0]["curves"][s]}
              for s in STRATEGIES}
    return FamilyCriteria(
        spearman={c: bounded([a["spearman"][c] for a in analyses], "rho") for c in CRITERIA},
        score=score, score_healed=healed,
        minus_deepest={s: t_interval([100 * (a["area"][s] - a["area"]["deepest"]) for a in analyses]) for s in STRATEGIES},
        curves=curves, lesion=[sum(col) / len(col) for col in zip(*[a["lesion_loss_increase"] for a in analyses])],
        base_acc=t_interval([100 * a["base_acc"] for a in analyses]), best_peer=best,
        difference=t_interval([(a["area"]["paper"] - a["area"][best]) / a["area"]["oracle"] for a in analyses]))


def measure(nets: list[TrainedNet], data, healing: HealConfig, n_criterion: int, *, mnist: dict | None = None,
            depth_verdicts: dict[str, str] | None = None, wall_seconds: float = 0.0) -> Criteria1d:
    """The record from the deep nets (and, in ``mnist``, {net: (model, MNIST data)} for the paper's nets)."""
    analyses = analyse_nets(nets, data, healing, n_criterion)
    by_family: dict[str, list[dict]] = {}
    for net, a in zip(nets, analyses):
        by_family.setdefault(net.job.family, []).append(a)
    mnist_out = {}
    for name, (model, mdata) in (mnist or {}).items():
        a = cached_analysis(f"mnist-{name}", {"state": _state_hash(model), "n_criterion": n_criterion,
                                              "oracle": ORACLE_SAMPLES},
                            lambda: analyse(model, mdata, healing=None, n_criterion=n_criterion))
        mnist_out[name] = {"spearman": a["spearman"], "score": {s: a["area"][s] / a["area"]["oracle"] for s in STRATEGIES},
                           "curves": {s: [100 * v for v in a["curves"][s]["acc"]] for s in STRATEGIES},
                           "lesion": a["lesion_loss_increase"], "base_acc": 100 * a["base_acc"]}
    return Criteria1d(families={f: summarize(a) for f, a in by_family.items()}, mnist=mnist_out,
                      nets=[{"family": n.job.family, "seed": n.job.seed, **a} for n, a in zip(nets, analyses)],
                      healing=asdict(healing), depth_verdicts=dict(depth_verdicts or {}), wall_seconds=wall_seconds)


def _state_hash(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode() + v.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()[:16]


def run(exp, *, depth_record=None, progress: bool = True) -> Criteria1d:
    """Section ``criteria1d`` of ``exp``'s mode: the study's deep nets and the paper's two nets (MNIST,
    or digits in quick mode); ``depth_record``: notebook 12's record, for the depth verdicts."""
    from resdyn.studies.sections import depth1d
    from resdyn.studies.sections.common import trained_nets

    start = time.perf_counter()
    study = exp.study1d
    nets = study_nets(study, progress=progress)
    deep = [n for n in nets.ladder if n.job.depth == study.depth]
    record = depth_record or depth1d.measure(study, nets.lrs, nets.selection, nets.ladder, study.data.load())
    verdicts_ = {v.key.removeprefix("depth_matters_"): v.verdict for v in depth1d.verdicts(record)}
    paper = trained_nets(exp)
    mnist = {net: (paper[net].model, exp.data) for net in NETS}
    return measure(deep, study.data.load(), study.healing, study.n_criterion, mnist=mnist, depth_verdicts=verdicts_,
                   wall_seconds=time.perf_counter() - start)


def verdicts(record: Criteria1d) -> list[Verdict]:
    """:data:`resdyn.core.claims.RANKS_REMOVABLE` per family."""
    return [claims.ranks_removable(f, r.difference, r.best_peer, record.depth_verdicts.get(f, "inconclusive"))
            for f, r in record.families.items()]


def _cell(i: Interval, fmt="{:.2f}") -> str:
    if i.mean is None:
        return "undefined"
    return fmt.format(i.mean) + (f" [{fmt.format(i.low)}, {fmt.format(i.high)}]" if i.low is not None else "")


def _intro() -> str:
    return ("Each strategy's score: the area under test accuracy against blocks removed, over the oracle's (no "
            "healing), mean over seeds with a 95 % bootstrap interval inside the seeds' range; MNIST: one net.")


def _tables(record: Criteria1d) -> list[str]:
    names = [*record.families, *(f"MNIST {n}" for n in record.mnist)]
    rows = [[c, *(_cell(r.score[c]) for r in record.families.values()),
             *(f"{m['score'][c]:.3f}" for m in record.mnist.values())] for c in STRATEGIES]
    out = [table(["strategy", *names], rows), "",
           "Intact test accuracy: " + "; ".join(f"{f} {_cell(r.base_acc, '{:.1f}')} %" for f, r in record.families.items())
           + "."]
    if "shared" in record.mnist:
        out.append("With shared weights every choice of k removed layers leaves the same net (the one map x + f(x) "
                   "applied T - k times), so every strategy gives the same curve.")
    return out


def body(record: Criteria1d) -> str:
    """The strategies' scores per family, as notebook 13 shows them above its verdicts: the report's section
    without its heading, its link and its verdicts."""
    return "\n".join([_intro(), "", *_tables(record), ""])


def render(record: Criteria1d, link: str) -> str:
    """The report's section: the strategies' scores per family and the verdicts."""
    out = ["## MNIST-1D: which blocks can go", "", f"Notebook: {link}. " + _intro() + " The notebook adds each "
           "criterion's Spearman rho with the single-block loss, and the scores after healing.", "", *_tables(record), ""]
    out.append(table(["claim", "ours", "controls", "verdict"],
                     [(v.claim, v.ours, v.controls, f"**{v.verdict}**") for v in verdicts(record)]))
    return "\n".join(out + [""])
