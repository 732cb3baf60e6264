"""Which blocks can go: layer criteria as predictions, block removal as the ground truth.

Plain functions on a trained model and data splits. Block indices are 0-based (block b maps
x(b) to x(b+1)); "removing" a block is skipping its residual branch (:func:`resdyn.lib.surgery.lesion`,
Veit et al. 2016), which for the last k blocks is the same net as truncating them.

- :func:`criterion_scores`: every criterion's score per block from one trajectory, oriented so
  that a *lower* score means *more removable* (:data:`CRITERIA`);
- :func:`lesion_losses`: the ground truth per block, test loss and accuracy with that block alone
  skipped (Veit-style);
- :func:`removal_orders`: for each strategy (deepest first, each criterion's ranking, Gromov's
  best span, the oracle) the blocks removed at k = 1 .. T-1;
- :func:`removal_curves`: accuracy after removing them, without retraining and after a short
  healing fine-tune (:func:`resdyn.lib.fitting.heal`, the same for every strategy; identical block
  sets are measured once);
- :func:`area` and :func:`spearman`: the summaries the comparison reports.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from resdyn.lib import criteria
from resdyn.core.data import Dataset, Split
from resdyn.lib.fitting import HealConfig, evaluate, heal
from resdyn.lib.surgery import lesion
from resdyn.lib.trace import trace

#: The criteria compared, each a score per block (lower: more removable), in the order tables list them:
#: the paper's c(t) = mean |y(t) - y(t-1)| (block 1 has none: never ranked first), ShortGPT's Block
#: Influence, the angular distance of one block (Gromov et al.), 1 - linear CKA of successive states,
#: and |y| / |x|.
CRITERIA = ("paper", "block_influence", "angular", "cka", "relative")
#: Strategies with a removal order besides the criteria: the deepest k, Gromov's best k-span
#: (l* = argmin_l d(x(l), x(l+k)), a new span for every k) and the oracle (greedy on validation).
BASELINES = ("deepest", "angular_span", "oracle")
STRATEGIES = (*CRITERIA, *BASELINES)


def criterion_scores(model: nn.Module, x: torch.Tensor, *, per_token: bool = False, batch_size: int = 1000
                     ) -> dict[str, list[float]]:
    """Every criterion of :data:`CRITERIA` per block of ``model`` on inputs ``x`` (n, ...): {name: (T,) scores},
    lower = more removable. ``per_token``: cosines per token for states (n, T+1, tokens, d)
    (Block Influence and the angular distance, as their papers do); CKA and c(t) flatten."""
    tr = trace(model, x, batch_size=batch_size)
    states, residuals = tr.states, tr.residuals
    c = criteria.convergence_profile(residuals)
    return {
        "paper": [math.inf, *c.tolist()],
        "block_influence": criteria.block_influence(states, per_token=per_token).tolist(),
        "angular": criteria.angular_distance(states, 1, per_token=per_token).tolist(),
        "cka": (1 - criteria.cka_profile(states)).tolist(),
        "relative": criteria.relative_residual(states, residuals).tolist(),
    }


@dataclass(frozen=True)
class Lesions:
    """The ground truth per block: ``loss``/``acc`` (T,) with block b alone skipped, beside the intact
    net's ``base_loss``/``base_acc``; ``loss_increase`` = loss - base_loss."""

    base_loss: float
    base_acc: float
    loss: list[float]
    acc: list[float]

    @property
    def loss_increase(self) -> list[float]:
        return [v - self.base_loss for v in self.loss]


def lesion_losses(model: nn.Module, split: Split, depth: int) -> Lesions:
    """Loss and accuracy on ``split`` with each of the ``depth`` blocks skipped alone."""
    base = evaluate(model, split)
    alone = [evaluate(lesion(model, None, b), split) for b in range(depth)]
    return Lesions(base[0], base[1], [a[0] for a in alone], [a[1] for a in alone])


def ranking(scores: Sequence[float]) -> list[int]:
    """Blocks from most to least removable: ascending score, ties by the shallower block."""
    return sorted(range(len(scores)), key=lambda b: (scores[b], b))


def removal_orders(model: nn.Module, scores: dict[str, list[float]], x: torch.Tensor, val: Split, *,
                   per_token: bool = False) -> dict[str, list[tuple[int, ...]]]:
    """{strategy: [blocks removed at k = 1 .. T-1]} for every strategy of :data:`STRATEGIES`.

    Criteria remove their k best-ranked blocks (one ranking, on the intact net, as ShortGPT does).
    ``deepest`` removes the k last; ``angular_span`` Gromov et al.'s best span of k blocks on the states
    of ``x``. ``oracle`` grows its set greedily, adding at each k the block whose removal gives the
    lowest loss on ``val`` (an upper bound for a one-shot ranking only in expectation: greedy)."""
    T = len(next(iter(scores.values())))
    orders = {name: [tuple(sorted(ranking(scores[name])[:k])) for k in range(1, T)] for name in CRITERIA}
    orders["deepest"] = [tuple(range(T - k, T)) for k in range(1, T)]
    states = trace(model, x, batch_size=1000).states
    orders["angular_span"] = [criteria.best_drop_span(states, k, per_token=per_token).blocks for k in range(1, T)]
    chosen, oracle = (), []
    for _ in range(1, T):
        left = [b for b in range(T) if b not in chosen]
        losses = {b: evaluate(lesion(model, None, [*chosen, b]), val)[0] for b in left}
        chosen = tuple(sorted((*chosen, min(left, key=lambda b: (losses[b], b)))))
        oracle.append(chosen)
    orders["oracle"] = oracle
    return orders


def removal_curves(model: nn.Module, orders: dict[str, list[tuple[int, ...]]], data: Dataset, *,
                   healing: HealConfig | None = None, seed: int = 0,
                   progress: Callable[[str], None] | None = None) -> dict[str, dict[str, list[float]]]:
    """{strategy: {"acc": [test acc at k = 1 .. T-1], "healed": [the same after healing] (with ``healing``)}}.

    Every distinct block set is lesioned and measured once (strategies often agree); healing draws
    its minibatches from ``seed``."""
    sets = {s for order in orders.values() for s in order}
    acc, healed = {}, {}
    for s in sorted(sets, key=lambda s: (len(s), s)):
        cut = lesion(model, None, list(s))
        acc[s] = evaluate(cut, data.test)[1]
        if healing is not None and healing.steps > 0:
            fixed = heal(cut, data, steps=healing.steps, lr=healing.lr, batch_size=healing.batch_size, seed=seed)
            healed[s] = evaluate(fixed, data.test)[1]
    if progress:
        progress(f"{len(sets)} block sets measured")
    out = {}
    for name, order in orders.items():
        out[name] = {"acc": [acc[s] for s in order]}
        if healed:
            out[name]["healed"] = [healed[s] for s in order]
    return out


def area(curve: Sequence[float]) -> float:
    """The area under accuracy against blocks removed, k = 1 .. T-1, as a mean (in [0, 1])."""
    if not curve:
        raise ValueError("curve must hold the accuracy for at least one k, got an empty list.")
    return float(sum(curve) / len(curve))


def spearman(scores: Sequence[float], truth: Sequence[float]) -> float:
    """Spearman's rank correlation of a criterion's scores with the measured single-block loss
    increase (positive: the criterion ranks the harmless blocks low, as it should); nan where
    either is constant. Infinite scores rank last."""
    from scipy import stats

    s = [1e300 if v == math.inf else v for v in scores]
    if len(set(s)) < 2 or len(set(truth)) < 2:
        return math.nan
    return float(stats.spearmanr(s, truth).statistic)
