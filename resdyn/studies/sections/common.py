"""What several sections share: the trained-net record, the nets of the regime and their controls.

Fields marked :data:`NOT_SAVED` hold what a figure needs beyond the numbers (per-neuron means, the
distance matrix, embeddings); they exist in the notebook and are not written to results.json.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from resdyn.core.claims import NETS
from resdyn.core.data import Split
from resdyn.core.model import DenseResNet
from resdyn.core.train import FitResult

#: Field metadata: kept in memory for figures, not written to results.json.
NOT_SAVED = {"saved": False}


def unsaved():
    """A record field that holds figure data only (not written to results.json)."""
    return field(default=None, metadata=NOT_SAVED, repr=False, compare=False)


@dataclass(frozen=True)
class TrainedNet:
    """One trained net: test accuracy (read once, after training), validation accuracy, precision,
    training time and per-epoch history (:class:`resdyn.core.train.EpochRecord` as dicts)."""

    test_acc: float
    val_acc: float
    precision: str
    train_seconds: float
    epochs: int
    history: list[dict]

    @classmethod
    def of(cls, result: FitResult) -> "TrainedNet":
        return cls(test_acc=result.test_acc, val_acc=result.val_acc, precision=result.config.precision,
                   train_seconds=result.seconds, epochs=len(result.history),
                   history=[r.to_dict() for r in result.history])

    @property
    def epoch_seconds(self) -> list[float]:
        return [h["seconds"] for h in self.history]


def trained_nets(exp) -> dict[str, FitResult]:
    """The two 15-layer nets of ``exp``'s regime (separate and shared weights), trained or from the cache."""
    return dict(zip(NETS, exp.train(*(exp.job(shared=(net == "shared")) for net in NETS))))


def untrained_net(exp, net: str, *, depth: int | None = None) -> DenseResNet:
    """The control: the net of ``net``'s configuration and seed as initialized, before training."""
    return DenseResNet(exp.model_config(shared=(net == "shared"), depth=depth), seed=exp.seed)


def untrained_nets(exp) -> dict[str, DenseResNet]:
    """:func:`untrained_net` for both kinds of weights."""
    return {net: untrained_net(exp, net) for net in NETS}


def models(nets: dict[str, FitResult]) -> dict:
    """The trained models of ``nets``."""
    return {net: r.model for net, r in nets.items()}


@dataclass(frozen=True)
class PaperNets:
    """What Fig. 1A-1D measure: both 15-layer nets of the regime (``fits``: trained, or from the
    cache), their untrained twins (the control) and the analysis samples (``exp.samples()``)."""

    fits: dict[str, FitResult]
    untrained: dict[str, DenseResNet]
    samples: Split

    @property
    def trained(self) -> dict[str, DenseResNet]:
        return models(self.fits)

    @property
    def models(self) -> dict[str, DenseResNet]:
        """Every net, keyed "trained/<net>" and "untrained/<net>"."""
        return {f"{kind}/{net}": getattr(self, kind)[net] for net in NETS for kind in ("trained", "untrained")}


def of_kind(values: dict, kind: str) -> dict:
    """The entries of ``values`` keyed "<kind>/<net>" (as :attr:`PaperNets.models`), keyed by net."""
    return {key.split("/", 1)[1]: v for key, v in values.items() if key.startswith(f"{kind}/")}


def paper_nets(exp) -> PaperNets:
    """:class:`PaperNets` of ``exp``: one call gives every net a figure of the paper measures."""
    return PaperNets(trained_nets(exp), untrained_nets(exp), exp.samples())


@dataclass(frozen=True)
class Interval:
    """A number over seeds: the values (None where undefined), how many are defined, their mean and
    95 % t-interval (None with fewer than two defined values)."""

    values: list[float | None]
    n: int
    mean: float | None
    low: float | None
    high: float | None


def t_interval(values: list[float | None]) -> Interval:
    """Mean and 95 % t-interval of the defined values."""
    from scipy import stats

    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    if len(xs) < 2:
        mean = xs[0] if xs else None
        return Interval(values=list(values), n=len(xs), mean=mean, low=None, high=None)
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    half = stats.t.ppf(0.975, len(xs) - 1) * sd / math.sqrt(len(xs))
    return Interval(values=list(values), n=len(xs), mean=mean, low=mean - half, high=mean + half)


def bounded(values: list[float | None], bounds: str) -> Interval:
    """Mean and 95 % interval of the defined values of a bounded number, the interval inside its bounds
    (:func:`resdyn.core.claims.bounded_interval`: ``"rho"`` for Spearman's rho, ``"unit"`` for a score in [0, 1])."""
    from resdyn.core.claims import bounded_interval

    plain = t_interval(values)
    iv = bounded_interval(values, bounds)
    return Interval(values=list(values), n=plain.n, mean=plain.mean, low=None if iv is None else iv[0],
                    high=None if iv is None else iv[1])


def censored_depth(criteria: list[float], threshold: float, min_depth: int, final_depth: int) -> tuple[bool, bool]:
    """(always_below, censored) of an adaptive run whose criterion after each epoch is ``criteria``
    (the last one recorded after the last epoch, when nothing is removed). Scalars, no tensors.

    always_below: the criterion was under the threshold at every check, so a layer went at every
    check and the depth was set by the number of epochs. censored: the run ended while the rule
    was still removing (always below, or under the threshold after the last epoch), or at the
    minimum depth: the final depth is not where the dynamics stop pruning."""
    checks, final = criteria[:-1], criteria[-1]
    always = bool(checks) and all(c < threshold for c in checks)
    censored = always or (final < threshold and final_depth > min_depth) or final_depth == min_depth
    return always, censored
