"""MNIST-1D, part 1: where depth matters. The study's nets and the depth curve of each family.

The study (notebooks 12-14) asks which blocks of a residual net can go, on a task where
depth matters. Its settings are :data:`resdyn.studies.experiment.STUDY_1D` (fixed before the first run);
its families :data:`resdyn.lib.zoo.FAMILIES`. This module trains the study's nets, shared by the three
notebooks through the cache:

1. the learning rate of each family, chosen on validation (lowest validation loss) among
   ``study.lrs``, at ``study.depth`` blocks and the first seed;
2. with it, every family at every depth of ``study.ladder`` (the deep nets among them) and seed;
3. the adaptive runs (notebook 14), so that they fill the worker pool with the rest.

Its record is the depth curve: test accuracy per family, depth and seed, and the gain of the deep
net over the 1-block net with its seed interval, judged by :data:`resdyn.core.claims.DEPTH_MATTERS`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

from resdyn.core import claims
from resdyn.core.claims import Verdict
from resdyn.lib.fitting import NetJob, TrainedNet, at_cap, evaluate
from resdyn.studies.markdown import table
from resdyn.lib.parallel import train_many
from resdyn.core.pruning import PAPER_THRESHOLD, AdaptiveDepthConfig
from resdyn.studies.regimes import Study1d
from resdyn.lib.zoo import family as zoo_family, init_candidates
from resdyn.studies.sections.common import Interval, t_interval


def net_job(study: Study1d, family: str, depth: int, seed: int, lr: float, *, threshold: float | None = None,
            init: str = "default") -> NetJob:
    """One net of the study (``threshold``: under the adaptive rule from ``depth`` blocks; ``init``: its
    initialization, :func:`resdyn.lib.zoo.init_candidates`)."""
    adaptive = None if threshold is None else AdaptiveDepthConfig(threshold=threshold, min_depth=2,
                                                                  probe_size=study.n_criterion)
    return NetJob(family, depth, seed, study.data, replace(study.fit, lr=lr), adaptive, init)


def selection_jobs(study: Study1d) -> list[NetJob]:
    """Step 1: every family at ``study.depth`` blocks, first seed, each candidate learning rate and, for a
    dense family, each initialization (:func:`resdyn.lib.zoo.init_candidates`)."""
    return [net_job(study, f, study.depth, study.seeds[0], lr, init=i) for f in study.families for lr in study.lrs
            for i in init_candidates(f)]


def choose_lrs(study: Study1d, nets: list[TrainedNet]) -> tuple[dict[str, float], list[dict]]:
    """({family: chosen lr}, one row per candidate): the lowest validation loss of the kept epoch; each row
    also names its initialization and whether it is the family's choice (:func:`chosen_inits`)."""
    rows = [{"family": n.job.family, "lr": n.job.fit.lr, "init": n.job.init,
             "val_loss": n.history[n.best_epoch - 1]["val_loss"], "val_acc": n.history[n.best_epoch - 1]["val_acc"],
             "epochs": len(n.history)} for n in nets]
    best = {f: min((r for r in rows if r["family"] == f),
                   key=lambda r: (r["val_loss"], r["lr"], init_candidates(f).index(r["init"]))) for f in study.families}
    for r in rows:
        r["chosen"] = r is best[r["family"]]
    return {f: r["lr"] for f, r in best.items()}, rows


def chosen_inits(rows: list[dict]) -> dict[str, str]:
    """{family: the initialization chosen with its learning rate} from :func:`choose_lrs`'s rows ("default"
    for rows of records written before the choice)."""
    return {r["family"]: r.get("init", "default") for r in rows if r.get("chosen", True)}


def ladder_jobs(study: Study1d, lrs: dict[str, float], inits: dict[str, str] | None = None) -> list[NetJob]:
    """Step 2: every family at every ladder depth and seed, at its chosen learning rate and initialization."""
    inits = inits or {}
    return [net_job(study, f, d, s, lrs[f], init=inits.get(f, "default")) for f in study.families
            for d in study.ladder for s in study.seeds]


def adaptive_jobs(study: Study1d, lrs: dict[str, float], inits: dict[str, str] | None = None) -> list[NetJob]:
    """Step 3: the adaptive rule from ``study.depth`` blocks: the paper's threshold on every seed,
    each threshold of ``study.thresholds`` on ``study.sweep_seeds``."""
    inits = inits or {}
    runs = {(t, s) for t in study.thresholds for s in study.sweep_seeds} | {(PAPER_THRESHOLD, s) for s in study.seeds}
    return [net_job(study, f, study.depth, s, lrs[f], threshold=t, init=inits.get(f, "default"))
            for f in study.families for t, s in sorted(runs)]


@dataclass(frozen=True)
class StudyNets:
    """The study's trained nets: the chosen learning rates, the selection's rows, the ladder nets, the
    adaptive nets, every distinct net (selection included) and the chosen initializations."""

    lrs: dict[str, float]
    selection: list[dict]
    ladder: list[TrainedNet]
    adaptive: list[TrainedNet]
    all: list[TrainedNet]
    inits: dict[str, str] = field(default_factory=dict)


def study_nets(study: Study1d, *, progress: bool = True) -> StudyNets:
    """Steps 1-3, trained or read from the cache."""
    first = train_many(selection_jobs(study), progress=progress)
    lrs, rows = choose_lrs(study, first)
    inits = chosen_inits(rows)
    ladder, adaptive = ladder_jobs(study, lrs, inits), adaptive_jobs(study, lrs, inits)
    nets = train_many(ladder + adaptive, progress=progress)
    distinct = list({n.job: n for n in [*first, *nets]}.values())
    return StudyNets(lrs, rows, nets[:len(ladder)], nets[len(ladder):], distinct, inits)


# -- the record ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamilyDepth:
    """One family's depth curve: ``test_acc`` {depth: Interval over seeds, %}, ``epochs`` {depth:
    [epochs trained per seed]}, ``gain`` the deep net's accuracy minus the 1-block net's (points, an
    Interval over seeds); ``capped`` {depth: the seeds whose run stopped at the epoch cap, not by its
    patience}; None in records written before it was kept, which cannot say."""

    title: str
    lr: float
    test_acc: dict[str, Interval]
    epochs: dict[str, list[int]]
    gain: Interval
    parameters: dict[str, int]
    capped: dict[str, list[int]] | None = None


@dataclass(frozen=True)
class Depth1d:
    """Section ``depth1d``: the study's settings, the learning-rate choice, every family's depth curve,
    the number of nets and their training time (s, summed over nets, from their cached runs)."""

    SECTION: ClassVar[str] = "depth1d"

    settings: dict[str, Any]
    selection: list[dict[str, Any]]
    families: dict[str, FamilyDepth]
    n_nets: int
    train_seconds: float
    wall_seconds: float


def settings_of(study: Study1d) -> dict:
    return {"data": study.data.to_dict(), "fit": study.fit.to_dict(), "lrs": list(study.lrs),
            "families": list(study.families), "depth": study.depth, "ladder": list(study.ladder),
            "seeds": list(study.seeds), "healing": asdict(study.healing), "thresholds": list(study.thresholds),
            "sweep_seeds": list(study.sweep_seeds), "n_criterion": study.n_criterion}


def capped_nets(record: Depth1d) -> list[str] | None:
    """The ladder's nets that stopped at the epoch cap, in words ("family depth d seed s"); empty where none did;
    None where the record predates the count (it cannot say)."""
    if any(r.capped is None for r in record.families.values()):
        return None
    return [f"{f} depth {d} seed {s}" for f, r in record.families.items() for d, seeds in r.capped.items() for s in seeds]


def measure(study: Study1d, lrs: dict[str, float], selection: list[dict], ladder: list[TrainedNet], data, *,
            nets: list[TrainedNet] = (), wall_seconds: float = 0.0) -> Depth1d:
    """The record from trained nets: each ladder net's test accuracy (read once here); ``nets``: every
    distinct net the study trained (for the count and the training time; default the ladder)."""
    nets = list(nets) or ladder
    length = study.data.arguments()["final_seq_length"]
    acc = {(n.job.family, n.job.depth, n.job.seed): 100 * evaluate(n.model, data.test)[1] for n in ladder}
    families = {}
    for f in study.families:
        gains = [acc[f, study.depth, s] - acc[f, 1, s] for s in study.seeds]
        families[f] = FamilyDepth(
            title=zoo_family(f).title, lr=lrs[f],
            test_acc={str(d): t_interval([acc[f, d, s] for s in study.seeds]) for d in study.ladder},
            epochs={str(d): [len(n.history) for n in ladder if n.job.family == f and n.job.depth == d]
                    for d in study.ladder},
            gain=t_interval(gains),
            capped={str(d): [n.job.seed for n in ladder if n.job.family == f and n.job.depth == d and at_cap(n.history)]
                    for d in study.ladder},
            parameters={str(d): sum(p.numel() for p in zoo_family(f).make(length, d, 0).parameters())
                        for d in study.ladder})
    return Depth1d(settings=settings_of(study), selection=selection, families=families, n_nets=len(nets),
                   train_seconds=sum(n.seconds for n in nets), wall_seconds=wall_seconds)


def run(exp, *, progress: bool = True) -> Depth1d:
    """Section ``depth1d`` of ``exp``'s mode: trains the study's nets (or reads them) and measures."""
    start = time.perf_counter()
    study = exp.study1d
    nets = study_nets(study, progress=progress)
    return measure(study, nets.lrs, nets.selection, nets.ladder, study.data.load(), nets=nets.all,
                   wall_seconds=time.perf_counter() - start)


def verdicts(record: Depth1d) -> list[Verdict]:
    """:data:`resdyn.core.claims.DEPTH_MATTERS` per family."""
    return [claims.depth_matters(f, r.gain) for f, r in record.families.items()]


def _body(record: Depth1d) -> list[str]:
    depths = sorted(next(iter(record.families.values())).test_acc, key=int)  # JSON keys: strings, in any order
    inits = chosen_inits(record.selection)
    rows = [(f"{f} ({r.title})", f"{r.lr:g}" + ("" if inits.get(f, "default") == "default" else f", {inits[f]} init"),
             *(f"{r.test_acc[d].mean:.1f}" for d in depths),
             f"{r.gain.mean:+.1f}" + (f" [{r.gain.low:+.1f}, {r.gain.high:+.1f}]" if r.gain.low is not None else ""))
            for f, r in record.families.items()]
    return [f"{record.n_nets} nets, {record.train_seconds / 60:.1f} min of training summed over nets. Test accuracy "
            "(%, mean over seeds) by number of blocks; the gain is the deepest net's minus the 1-block net's "
            "(points, 95 % t-interval over seeds).", "",
            table(["family", "lr (init where not the family's own)", *depths, "gain"], rows), "",
            _capped_line(capped_nets(record)), ""]


def _capped_line(capped: list[str] | None) -> str:
    """The sentence naming the nets at the epoch cap; a record without the count says it was not kept."""
    if capped is None:
        return "Which nets of the ladder stopped at the epoch cap was not kept by this record's run."
    return f"Nets of the ladder that stopped at the epoch cap, not by their patience: {', '.join(capped) or 'none'}."


def body(record: Depth1d) -> str:
    """The depth curve per family, as notebook 12 shows it above its verdicts: the report's section without its
    heading, its link and its verdicts."""
    return "\n".join(_body(record))


def render(record: Depth1d, link: str) -> str:
    """The report's section: the depth curve per family and the verdicts."""
    first, *rest = _body(record)
    out = ["## MNIST-1D: where depth matters", "", f"Notebook: {link}. " + first, *rest,
           table(["claim", "ours", "verdict"], [(v.claim, v.ours, f"**{v.verdict}**") for v in verdicts(record)]), ""]
    return "\n".join(out)
