"""Fig. 1C (notebook 02): l2 distances of whole residual trajectories, within and between classes.

Core: :func:`measure` takes trained models, their untrained twins and the analysis samples;
:func:`run` gets them from a :class:`resdyn.experiment.Setup`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .. import claims
from ..claims import NETS
from ..data import Split
from ..dynamics import trajectory_distances
from ..experiment import DEPTH
from ..trace import trace
from .common import models, trained_nets, unsaved, untrained_nets
from .fig1ab import BATCH


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
    (N values). ``distances`` (not saved): :class:`resdyn.dynamics.TrajectoryDistances` per net."""

    classes: list[int]
    n_samples: int
    trajectory_length: int
    trained: dict[str, DistanceSummary]
    untrained: dict[str, DistanceSummary]
    raw: DistanceSummary
    distances: dict | None = unsaved()

    SECTION: ClassVar[str] = "fig1c"


def measure(trained: dict[str, torch.nn.Module], untrained: dict[str, torch.nn.Module], samples: Split) -> Fig1C:
    """Trajectory distances of the ``trained`` models, their ``untrained`` twins (same keys) and the
    raw inputs, on ``samples``."""
    def distances(model):
        return trajectory_distances(trace(model, samples.x, batch_size=BATCH).residuals, samples.y)

    done = {net: distances(m) for net, m in trained.items()}
    raw = trajectory_distances(samples.x[:, None, :], samples.y)
    depth = next(iter(trained.values())).depth
    return Fig1C(classes=raw.classes.tolist(), n_samples=len(samples.y),
                 trajectory_length=depth * samples.x.shape[1],
                 trained={n: DistanceSummary.of(d) for n, d in done.items()},
                 untrained={n: DistanceSummary.of(distances(m)) for n, m in untrained.items()},
                 raw=DistanceSummary.of(raw), distances=done)


def run(exp) -> Fig1C:
    """Trajectory distances of both 15-layer nets, their untrained twins and the raw inputs."""
    samples, nets = exp.samples(), trained_nets(exp)
    return measure(models(nets), untrained_nets(exp), samples)


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
