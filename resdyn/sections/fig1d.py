"""Fig. 1D (notebook 03): t-SNE of the final state x(T), one cluster per class?

Core: :func:`measure` takes trained models, their untrained twins and the analysis samples;
:func:`run` gets them from a :class:`resdyn.experiment.Setup`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from .. import claims
from ..claims import NETS
from ..data import Split
from ..dynamics import cluster_separation, tsne_embedding
from ..trace import trace
from .common import models, trained_nets, unsaved, untrained_nets
from .fig1ab import BATCH


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


def embedding_inputs(trained: dict[str, torch.nn.Module], untrained: dict[str, torch.nn.Module],
                     samples: Split) -> dict[str, torch.Tensor]:
    """What is embedded: the raw input, and per net x(T), sum y = x(T) - x(0), and the untrained x(T)."""
    inputs = {"raw": samples.x}
    for net in trained:
        states = trace(trained[net], samples.x, batch_size=BATCH).states
        inputs[f"trained/{net}"] = states[:, -1].clone()  # x(T), before the read-out
        inputs[f"residual_sum/{net}"] = states[:, -1] - states[:, 0]
        inputs[f"untrained/{net}"] = trace(untrained[net], samples.x, batch_size=BATCH).states[:, -1].clone()
    return inputs


def measure(trained: dict[str, torch.nn.Module], untrained: dict[str, torch.nn.Module], samples: Split, *,
            seed: int, perplexity: float = 30.0, workers: int = 1) -> Fig1D:
    """openTSNE (seeded, one thread each, ``workers`` side by side) of x(T), sum y and the controls,
    with kNN accuracy and silhouette of each embedding."""
    from joblib import Parallel, delayed

    from ..parallel import pool_options

    inputs = embedding_inputs(trained, untrained, samples)
    t0 = time.perf_counter()
    embedded = Parallel(n_jobs=min(len(inputs), workers), **pool_options())(
        delayed(tsne_embedding)(x, seed=seed, perplexity=perplexity, n_jobs=1) for x in inputs.values())
    seconds = time.perf_counter() - t0
    emb = dict(zip(inputs, embedded))
    sep = {}
    for name, e in emb.items():
        s = cluster_separation(e, samples.y, k=10, seed=seed)
        sep[name] = Separation(knn_accuracy=s.knn_accuracy, silhouette=s.silhouette, k=s.k)
    pick = lambda kind: {net: sep[f"{kind}/{net}"] for net in trained}  # noqa: E731
    return Fig1D(perplexity=perplexity, seed=seed, trained=pick("trained"), residual_sum=pick("residual_sum"),
                 untrained=pick("untrained"), raw=sep["raw"], seconds=seconds, embeddings=emb, labels=samples.y)


def run(exp, *, perplexity: float = 30.0) -> Fig1D:
    """:func:`measure` on both 15-layer nets of ``exp``, their untrained twins and ``exp.samples()``."""
    nets = trained_nets(exp)
    return measure(models(nets), untrained_nets(exp), exp.samples(), seed=exp.seed, perplexity=perplexity,
                   workers=exp.workers)


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
