"""The training regime (notebook 00): every variant of the sweep on a short budget, then the
chosen regime against its best rival at full length, all judged on the validation split.

The sweep trains nets of the paper's architecture only, so there is no model-agnostic core: the
variants are regimes (:func:`resdyn.studies.regimes.regime_variants`). The steps, as notebook 00 runs them:
:func:`stage1`, :func:`stage2` (given stage 1's ranking), then :func:`record`; :func:`run` composes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from resdyn.core import claims
from resdyn.studies.experiment import DEPTH
from resdyn.studies.markdown import pct
from resdyn.studies.regimes import regime_variants
from resdyn.core.train import FitResult


@dataclass(frozen=True)
class SweepRow:
    """One trained variant of the sweep (``key`` and ``shared`` identify it; ``name`` is for display).
    Ranked by ``val_acc``, accuracy on the validation split."""

    key: str
    name: str
    shared: bool
    scaling: str
    init_scale: float | None
    init_bias: float
    optimizer: str
    lr: float
    schedule: str
    batch_size: int
    val_acc: float
    train_loss: float
    seconds: float


@dataclass(frozen=True)
class Stage2:
    """The chosen regime and the best other separate-weights variant of stage 1, at full length
    (validation accuracy)."""

    epochs: int
    runner_up: str
    val_acc: dict[str, float]
    seconds: dict[str, float]


@dataclass(frozen=True)
class RegimeSweep:
    """Section ``regime``: stage 1 (every variant on a short budget) and stage 2 (full length), all
    judged on the validation split.

    ``best``: key of the best separate-weights variant of stage 1; ``chosen_rank``: the chosen
    regime's rank among the separate-weights variants (1 = best)."""

    n_train: int
    epochs: int
    chosen: dict[str, Any]
    table: list[SweepRow]
    best: str
    chosen_rank: int
    chosen_acc: float
    baseline_acc: float
    stage2: Stage2

    SECTION: ClassVar[str] = "regime"

    def row(self, key: str, *, shared: bool = False) -> SweepRow:
        return next(r for r in self.table if r.key == key and r.shared == shared)

    def frame(self):
        """Stage 1 as a pandas DataFrame, separate weights first, best first."""
        import pandas as pd

        df = pd.DataFrame([{"name": r.name, "shared": r.shared, "val_acc": round(100 * r.val_acc, 2),
                            "train_loss": r.train_loss, "seconds": r.seconds} for r in self.table])
        return df.sort_values(["shared", "val_acc"], ascending=[True, False], kind="stable").reset_index(drop=True)

    def checks(self) -> list[tuple[str, bool]]:
        """The sweep's two checks on the validation split: the chosen regime beats the baseline on
        the short budget, and is at least as good as its rival at full length (0.1-point tolerance)."""
        s2, tolerance = self.stage2.val_acc, claims.REGIME_DECISION.thresholds["tolerance"]
        return [("chosen beats the baseline in stage 1", self.chosen_acc > self.baseline_acc),
                (f"chosen at least as good as its rival at full length ({tolerance:g}-point tolerance)",
                 s2["chosen"] >= s2[self.stage2.runner_up] - tolerance / 100)]

    def summary(self) -> str:
        """Both stages and the checks in four lines."""
        s2, rival = self.stage2.val_acc, self.stage2.runner_up
        return "\n".join(
            [f"stage 1 (validation): chosen {100 * self.chosen_acc:.1f} %, baseline {100 * self.baseline_acc:.1f} %, "
             f"best: {self.row(self.best).name}",
             f"stage 2 (validation): chosen {100 * s2['chosen']:.1f} %, {self.row(rival).name}: {100 * s2[rival]:.1f} %"]
            + [f"{text}: {'yes' if ok else 'no'}" for text, ok in self.checks()])


def stage1(exp, *, log=print) -> list[SweepRow]:
    """Every variant of :func:`resdyn.studies.regimes.regime_variants` on ``exp.sweep_budget`` (trained, or
    from the cache), judged on the validation split; one line per variant to ``log``."""
    n_train, epochs = exp.sweep_budget
    variants = regime_variants()
    results = exp.train(*(exp.job(shared=v.shared, variant=v, n_train=n_train, epochs=epochs) for v in variants))
    rows = [_sweep_row(v, r, exp) for v, r in zip(variants, results)]
    for row in rows:
        # no seconds here: the executed notebook must not change from run to run (they are in the record)
        log(f"{row.val_acc:.4f}  {'shared  ' if row.shared else 'separate'}  {row.name}")
    return rows


def ranked(rows: list[SweepRow]) -> list[SweepRow]:
    """The separate-weights rows of stage 1, best validation accuracy first."""
    return sorted((r for r in rows if not r.shared), key=lambda r: -r.val_acc)


def stage2(exp, rows: list[SweepRow], *, log=print) -> Stage2:
    """The chosen regime and the best other separate-weights variant of stage 1 (``rows``) with all
    training samples for the regime's epochs (the chosen one is notebook 01's separate net)."""
    runner_up = next(r.key for r in ranked(rows) if r.key != "chosen")
    by_key = {v.key: v for v in regime_variants() if not v.shared}
    full = exp.train_config.epochs
    done = dict(zip(("chosen", runner_up), exp.train(*(exp.job(shared=False, variant=by_key[k])
                                                        for k in ("chosen", runner_up)))))
    for k, r in done.items():
        log(f"{by_key[k].name:45s} {full} epochs, all {len(exp.data.train)} samples: validation accuracy {r.val_acc:.4f}")
    return Stage2(epochs=full, runner_up=runner_up, val_acc={k: r.val_acc for k, r in done.items()},
                  seconds={k: r.seconds for k, r in done.items()})


def record(exp, rows: list[SweepRow], stage2_: Stage2) -> RegimeSweep:
    """The record of both stages: stage 1's ``rows`` ranked on the validation split, and ``stage2_``."""
    n_train, epochs = exp.sweep_budget
    best = ranked(rows)
    return RegimeSweep(
        n_train=n_train or len(exp.data.train), epochs=epochs, chosen=exp.regime.settings(), table=rows,
        best=best[0].key, chosen_rank=1 + [r.key for r in best].index("chosen"),
        chosen_acc=next(r.val_acc for r in best if r.key == "chosen"),
        baseline_acc=next(r.val_acc for r in best if r.key == "baseline"), stage2=stage2_)


def run(exp, *, log=print) -> RegimeSweep:
    """Stage 1, stage 2 and the record. Ranked on the validation split; the test set is not read."""
    rows = stage1(exp, log=log)
    return record(exp, rows, stage2(exp, rows, log=log))


def _sweep_row(v, result: FitResult, exp) -> SweepRow:
    m, t = result.model.config, result.config
    return SweepRow(key=v.key, name=v.name, shared=v.shared, scaling=v.scaling or exp.regime.scaling,
                    init_scale=m.init_scale, init_bias=m.init_bias, optimizer=t.optimizer, lr=t.lr,
                    schedule=t.schedule, batch_size=t.batch_size, val_acc=result.val_acc,
                    train_loss=result.history[-1].loss, seconds=result.seconds)


def render(g: RegimeSweep, link: str) -> str:
    """The report's section: the chosen regime, the sweep's result and its checks (the tables are in the notebook)."""
    s2 = g.stage2
    names = {row.key: row.name for row in g.table}
    chosen = ", ".join(f"{k} {v}" for k, v in sorted(g.chosen.items()))
    out = ["## Training regime", "",
           "The paper gives no optimizer, learning rate or initialization. With PyTorch's default initialization and "
           "inputs in [0, 1], most deep sigmoid units saturate early in training. "
           f"We swept the settings that matter, one change at a time ({link}; stage 1: {g.n_train} training samples, "
           f"{g.epochs} epoch(s), {DEPTH} layers, {len(g.table)} variants). "
           f"Then we trained the chosen regime and the best other variant at full length ({s2.epochs} epochs). "
           "**Every choice is made on the validation split**; the test set is read once per final net.", "",
           f"The chosen regime: {chosen}. Best separate-weights variant of stage 1: `{names[g.best]}`; the chosen "
           f"regime ranks {g.chosen_rank}. At full length: "
           + "; ".join(f"{names[k]} {pct(v)} validation accuracy ({s2.seconds[k]:.0f} s)" for k, v in s2.val_acc.items())
           + ".", "",
           "Checks: " + "; ".join(f"{t}: **{'yes' if ok else 'no'}**" for t, ok in g.checks()) + ".", ""]
    return "\n".join(out)
