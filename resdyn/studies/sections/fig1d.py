"""Fig. 1D (notebook 03): t-SNE of the final state x(T), one cluster per class?

The steps, as notebook 03 runs them: :func:`nets` (the nets and the samples, one call), per net
:func:`resdyn.core.dynamics.collect_trajectory`, :func:`embedding_inputs` (what is embedded),
:func:`embed` (openTSNE), :func:`separation` (kNN accuracy and silhouette), then :func:`record`.
:func:`measure` composes them for any models and samples; :func:`run` gets them from a
:class:`resdyn.studies.experiment.Setup`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.core.dynamics import collect_trajectory
from resdyn.lib.embedding import cluster_separation, tsne_embedding
from resdyn.core.model import Trajectory
from resdyn.studies.sections.common import PaperNets, of_kind, paper_nets, unsaved

#: openTSNE's perplexity for every embedding.
PERPLEXITY = 30.0
#: Neighbours of the kNN classifier in the embeddings.
NEIGHBOURS = 10


@dataclass(frozen=True)
class Separation:
    """How well classes separate in a 2-D embedding: kNN accuracy (k neighbours, 5-fold) and silhouette."""

    knn_accuracy: float
    silhouette: float
    k: int


@dataclass(frozen=True)
class Fig1D:
    """Section ``fig1d``: t-SNE of x(T) of the trained nets, and of the controls: x(T) of the
    untrained nets and the raw input x(0); also the trained nets' own contribution to x(T),
    sum_t y(t) = x(T) - x(0) (``residual_sum``). ``embeddings`` (not saved): (n, 2) per input,
    keyed "raw", "trained/<net>", "residual_sum/<net>", "untrained/<net>"; ``labels`` (not saved)."""

    perplexity: float
    seed: int
    trained: dict[str, Separation]
    residual_sum: dict[str, Separation]
    untrained: dict[str, Separation]
    raw: Separation
    seconds: float
    embeddings: dict | None = unsaved()
    labels: Any = unsaved()

    SECTION: ClassVar[str] = "fig1d"


def nets(exp) -> PaperNets:
    """Both 15-layer nets (trained, or from the cache), their untrained twins and the analysis samples."""
    return paper_nets(exp)


def embedding_inputs(trajectories: dict[str, Trajectory], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What is embedded, from the trajectories keyed "trained/<net>" and "untrained/<net>" on inputs
    ``x``: the raw input; per net x(T) (before the read-out), sum y = x(T) - x(0), and the untrained x(T)."""
    inputs = {"raw": x}
    for net, trajectory in of_kind(trajectories, "trained").items():
        states = trajectory.states
        inputs[f"trained/{net}"] = states[:, -1].clone()
        inputs[f"residual_sum/{net}"] = states[:, -1] - states[:, 0]
        inputs[f"untrained/{net}"] = trajectories[f"untrained/{net}"].states[:, -1].clone()
    return inputs


def embed(inputs: dict[str, torch.Tensor], *, seed: int, perplexity: float = PERPLEXITY,
          workers: int = 1) -> tuple[dict[str, np.ndarray], float]:
    """openTSNE (:func:`resdyn.lib.embedding.tsne_embedding`, seeded, one thread each, ``workers`` side by
    side) of every input: the (n, 2) embeddings, same keys, and the seconds they took."""
    from joblib import Parallel, delayed

    from resdyn.lib.parallel import pool_options

    t0 = time.perf_counter()
    embedded = Parallel(n_jobs=min(len(inputs), workers), **pool_options())(
        delayed(tsne_embedding)(x, seed=seed, perplexity=perplexity, n_jobs=1) for x in inputs.values())
    return dict(zip(inputs, embedded)), time.perf_counter() - t0


def separation(embeddings: dict[str, np.ndarray], labels: torch.Tensor, *, seed: int) -> dict[str, Separation]:
    """:func:`resdyn.lib.embedding.cluster_separation` of every embedding (kNN with :data:`NEIGHBOURS`)."""
    out = {}
    for name, e in embeddings.items():
        s = cluster_separation(e, labels, k=NEIGHBOURS, seed=seed)
        out[name] = Separation(knn_accuracy=s.knn_accuracy, silhouette=s.silhouette, k=s.k)
    return out


def record(sep: dict[str, Separation], embeddings: dict[str, np.ndarray], labels: torch.Tensor, *, seed: int,
           seconds: float, perplexity: float = PERPLEXITY) -> Fig1D:
    """The record of the separations ``sep`` (keys as :func:`embedding_inputs`'), with the embeddings
    and labels for the figure and the seconds the embeddings took."""
    return Fig1D(perplexity=perplexity, seed=seed, trained=of_kind(sep, "trained"),
                 residual_sum=of_kind(sep, "residual_sum"), untrained=of_kind(sep, "untrained"), raw=sep["raw"],
                 seconds=seconds, embeddings=embeddings, labels=labels)


def measure(trained: dict[str, torch.nn.Module], untrained: dict[str, torch.nn.Module], samples: Split, *,
            seed: int, perplexity: float = PERPLEXITY, workers: int = 1) -> Fig1D:
    """t-SNE of x(T), sum y and the controls of the ``trained`` models and their ``untrained`` twins
    (same keys) on ``samples``, with kNN accuracy and silhouette of each embedding."""
    models = {f"trained/{n}": m for n, m in trained.items()} | {f"untrained/{n}": m for n, m in untrained.items()}
    inputs = embedding_inputs({name: collect_trajectory(m, samples.x) for name, m in models.items()}, samples.x)
    embeddings, seconds = embed(inputs, seed=seed, perplexity=perplexity, workers=workers)
    return record(separation(embeddings, samples.y, seed=seed), embeddings, samples.y, seed=seed, seconds=seconds,
                  perplexity=perplexity)


def run(exp, *, perplexity: float = PERPLEXITY) -> Fig1D:
    """:func:`measure` on both 15-layer nets of ``exp``, their untrained twins and ``exp.samples()``."""
    n = nets(exp)
    return measure(n.trained, n.untrained, n.samples, seed=exp.seed, perplexity=perplexity, workers=exp.workers)


def verdicts(rec: Fig1D) -> list[claims.Verdict]:
    return claims.tsne_clusters(rec)


def render(d: Fig1D, link: str) -> str:
    """The report's section: the separation of every embedding."""
    out = ["## Fig. 1D: t-SNE of x(T)", ""]
    rows = [(f"x(T), {n}, trained", d.trained[n]) for n in NETS] + [(f"sum of y(t) = x(T) - x(0), {n}", d.residual_sum[n])
                                                                   for n in NETS]
    rows += [(f"x(T), {n}, untrained", d.untrained[n]) for n in NETS] + [("raw input x(0)", d.raw)]
    out.append(f"Notebook: {link}. kNN accuracy (k=10, 5-fold) / silhouette of each embedding: "
               + "; ".join(f"{name} {s.knn_accuracy:.3f} / {s.silhouette:.3f}" for name, s in rows) + ".")
    out += ["", f"openTSNE, perplexity {d.perplexity}, seed {d.seed}; {d.seconds:.0f} s for the seven embeddings.", ""]
    return "\n".join(out)
