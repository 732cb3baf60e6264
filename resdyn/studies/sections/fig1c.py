"""Fig. 1C (notebook 02): l2 distances of whole residual trajectories, within and between classes.

The steps, as notebook 02 runs them: :func:`nets` (the nets and the samples, one call), then per
net :func:`resdyn.core.dynamics.collect_trajectory` and :func:`resdyn.core.dynamics.trajectory_distances`,
then :func:`record`. :func:`measure` composes the last three for any models and samples;
:func:`run` gets them from a :class:`resdyn.studies.experiment.Setup`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.core.dynamics import TrajectoryDistances, collect_trajectory, trajectory_distances
from resdyn.studies.experiment import DEPTH
from resdyn.studies.sections.common import PaperNets, of_kind, paper_nets, unsaved


@dataclass(frozen=True)
class DistanceSummary:
    """Within/between-class distances of one set of trajectories: per class (C,) ratio, within and
    between; class_mean (C, C)."""

    ratio: list[float]
    within: list[float]
    between: list[float]
    class_mean: list[list[float]]

    @classmethod
    def of(cls, d) -> "DistanceSummary":
        return cls(ratio=d.ratio.tolist(), within=d.within.tolist(), between=d.between.tolist(),
                   class_mean=d.class_mean.tolist())

    @property
    def mean_ratio(self) -> float:
        return sum(self.ratio) / len(self.ratio)


@dataclass(frozen=True)
class Fig1C:
    """Section ``fig1c``: l2 distances of whole residual trajectories (T x N values) of the trained
    nets, and the controls: the untrained nets' residual trajectories and the raw inputs x(0)
    (N values). ``distances`` (not saved): :class:`resdyn.core.dynamics.TrajectoryDistances` per net."""

    classes: list[int]
    n_samples: int
    trajectory_length: int
    trained: dict[str, DistanceSummary]
    untrained: dict[str, DistanceSummary]
    raw: DistanceSummary
    distances: dict | None = unsaved()

    SECTION: ClassVar[str] = "fig1c"


def nets(exp) -> PaperNets:
    """Both 15-layer nets (trained, or from the cache), their untrained twins and the analysis samples."""
    return paper_nets(exp)


def record(distances: dict[str, TrajectoryDistances], *, depth: int, width: int) -> Fig1C:
    """The record of the distances of each net's residual trajectories, keyed "trained/<net>" and
    "untrained/<net>", and of the raw inputs, "raw"; ``depth`` T and ``width`` N of the nets."""
    raw, trained = distances["raw"], of_kind(distances, "trained")
    return Fig1C(classes=raw.classes.tolist(), n_samples=len(raw.labels), trajectory_length=depth * width,
                 trained={n: DistanceSummary.of(d) for n, d in trained.items()},
                 untrained={n: DistanceSummary.of(d) for n, d in of_kind(distances, "untrained").items()},
                 raw=DistanceSummary.of(raw), distances=trained)


def measure(trained: dict[str, torch.nn.Module], untrained: dict[str, torch.nn.Module], samples: Split) -> Fig1C:
    """Trajectory distances of the ``trained`` models, their ``untrained`` twins (same keys) and the
    raw inputs (one layer of N values), on ``samples``."""
    models = {f"trained/{n}": m for n, m in trained.items()} | {f"untrained/{n}": m for n, m in untrained.items()}
    distances = {name: trajectory_distances(collect_trajectory(m, samples.x).residuals, samples.y)
                 for name, m in models.items()}
    distances["raw"] = trajectory_distances(samples.x[:, None, :], samples.y)
    return record(distances, depth=next(iter(trained.values())).depth, width=samples.x.shape[1])


def run(exp) -> Fig1C:
    """Trajectory distances of both 15-layer nets, their untrained twins and the raw inputs."""
    n = nets(exp)
    return measure(n.trained, n.untrained, n.samples)


def verdicts(rec: Fig1C) -> list[claims.Verdict]:
    return claims.distance_ratio(rec)


def render(c: Fig1C, link: str) -> str:
    """The report's section: the mean ratio and its range over the classes for the nets and the controls."""
    out = ["## Fig. 1C: distances between residual trajectories", ""]
    rows = [(f"{net}, trained", c.trained[net]) for net in NETS] + [(f"{net}, untrained", c.untrained[net])
                                                                     for net in NETS] + [("raw input x(0)", c.raw)]
    out.append(f"Notebook: {link}. Within-class / between-class mean l2 distance of whole residual trajectories "
               f"({c.n_samples} samples, {c.trajectory_length} values each; the raw input: its "
               f"{c.trajectory_length // DEPTH} pixels), mean over the {len(c.classes)} classes (their range; the "
               "notebook gives each class): " + "; ".join(
                   f"{name} {d.mean_ratio:.3f} ({min(d.ratio):.3f}-{max(d.ratio):.3f})" for name, d in rows) + ".")
    out.append("")
    return "\n".join(out)
