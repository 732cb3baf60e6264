"""Verdicts from intervals: a claim over seeds (:data:`SEEDS`), the controls' clauses per regime and
seed, the interventions, and the MNIST-1D study's rules, each against its rule's threshold."""
from __future__ import annotations

from resdyn.core.claims.rules import (NETS, PAPER, Verdict, ERROR, MEAN_SETTLING, STD_SETTLING, DISTANCE, TSNE,
                                      ADAPTIVE, DEPTH_MATTERS, RANKS_REMOVABLE, ADAPTIVE_KEEPS, ABSOLUTE_SETTLING,
                                      SHUFFLED_CONTROL, MLP_CONTROL, INTERVENTION, INTERVENTION_UNDO, SEEDS,
                                      SETTLING_BY_LAYER, ABSOLUTE_WHAT, REGIMES, REGIME_NAMES, error_limit)


def regime_name(key: str) -> str:
    """``key`` (a key of :data:`REGIMES`, or ``untrained``) in words."""
    return REGIME_NAMES.get(key, key.replace("_", " "))


def in_order(keys, order) -> list:
    """``keys`` (any iterable, e.g. a dict) in the order of ``order``, then any others as they come: a
    record read back from JSON has its keys sorted, a table or figure shows them in the package's order."""
    keys = list(keys)
    return [k for k in order if k in keys] + [k for k in keys if k not in order]


def in_regime_order(d) -> list[str]:
    """The keys of ``d`` in the order of :data:`REGIMES`, then any others (:func:`in_order`)."""
    return in_order(d, REGIMES)


def against(low: float | None, high: float | None, threshold: float) -> str:
    """The verdict of an interval [low, high] against a threshold: "holds" above it, "does not" below,
    "borderline" containing it, "inconclusive" without an interval (fewer than two seeds)."""
    if low is None or high is None or low != low or high != high:
        return "inconclusive"
    return "holds" if low > threshold else "does not" if high < threshold else "borderline"


def bounded_interval(values: list[float | None], bounds: str) -> tuple[float, float] | None:
    """95 % interval over seeds of a bounded number, inside its bounds: ``"rho"`` (Spearman's rho, in [-1, 1]):
    a t-interval of Fisher's z = atanh(rho) (clipped 1e-6 inside +-1) mapped back by tanh; ``"unit"`` (a score
    in [0, 1]): a percentile bootstrap of the mean (2,000 resamples, seed 0), inside the values' range. None
    with fewer than two finite values."""
    import math

    import numpy as np
    from scipy import stats
    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    if len(xs) < 2:
        return None
    if bounds == "unit":
        means = np.random.default_rng(0).choice(xs, (2000, len(xs))).mean(1)
        return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))
    zs = [math.atanh(min(max(x, -1 + 1e-6), 1 - 1e-6)) for x in xs]
    mean = sum(zs) / len(zs)
    half = stats.t.ppf(0.975, len(zs) - 1) * math.sqrt(sum((z - mean) ** 2 for z in zs) / (len(zs) - 1) / len(zs))
    return math.tanh(mean - half), math.tanh(mean + half)


#: The claims the seeds judge, in the report's order (each followed by _ and a net), with their rules.
SEED_CLAIMS = {"error": ERROR, "mean_layer": MEAN_SETTLING, "std_layer": STD_SETTLING,
               "mean_absolute": ABSOLUTE_SETTLING, "std_absolute": ABSOLUTE_SETTLING, "distance": DISTANCE,
               "tsne": TSNE, "adaptive": ADAPTIVE}


def seed_thresholds(key: str) -> list[tuple[str, float]]:
    """The (headline number, threshold) pairs that claim ``key``'s rule compares: the numbers are keys
    of :data:`resdyn.studies.sections.seeds.METRICS`; the thresholds are on the number's own scale (a layer's
    or a depth's boundary half a layer past the rule's last accepted one, see :data:`SEEDS`)."""
    claim, _, net = key.rpartition("_")
    half = SEEDS.thresholds["half"]
    if claim == "error":
        return [(key, error_limit(net)), (key, PAPER[key] + ERROR.thresholds["partly"])]
    if claim in ("mean_layer", "std_layer"):
        return [(key, SETTLING_BY_LAYER + half)]
    if claim in ("mean_absolute", "std_absolute"):
        return [(f"{claim.removesuffix('_absolute')}_layer_absolute_{net}", ABSOLUTE_SETTLING.thresholds["by_layer"] + half)]
    if claim == "distance":
        th = DISTANCE.thresholds
        return [(f"distance_ratio_{net}", th["below"]), (f"distance_margin_{net}", th["margin"])]
    if claim == "tsne":
        return [(f"{m}_{net}", TSNE.thresholds[m]) for m in ("knn", "silhouette", "knn_margin", "silhouette_margin")]
    if claim == "adaptive":
        th = ADAPTIVE.thresholds
        return [(f"adaptive_change_{net}", -th["max_loss"]), (f"adaptive_depth_{net}", th["max_depth"] + half)]
    raise ValueError(f"key must be a claim of the seeds section (one of {', '.join(SEED_CLAIMS)} followed by _ and "
                     f"a net); got {key!r}.")


def _seed_interval(i) -> str:
    if i.mean is None:
        return "undefined in every seed"
    if i.low is None:
        return f"{i.mean:.3g} (one seed)"
    return f"{i.mean:.3g} [{i.low:.3g}, {i.high:.3g}]" + ("" if i.n == len(i.values) else f" ({i.n} of {len(i.values)} seeds)")


def _contains(i, threshold: float) -> bool:
    return i.low is not None and i.low <= threshold <= i.high


def over_seeds(seeds) -> list[Verdict]:
    """:data:`SEEDS` for every claim of a :class:`resdyn.studies.sections.seeds.SeedsSection`: "inconclusive"
    where a seed's is; else the seeds' common verdict, "borderline" where a number's seed interval
    contains its rule's threshold, "inconclusive" where the seeds disagree otherwise. Keys: the claim's key + ``/seeds``."""
    n, out = len(seeds.seeds), []
    keys = [f"{c}_{net}" for c in SEED_CLAIMS for net in NETS]
    for key in (k for k in keys if k in seeds.holds):
        per_seed = [r.verdicts[key] for r in seeds.runs]
        counts = {v: per_seed.count(v) for v in dict.fromkeys(per_seed)}
        straddle = [(m, t) for m, t in seed_thresholds(key) if _contains(seeds.summary[m], t)]
        if set(per_seed) == {"n/a"}:
            v = "n/a"
        elif "inconclusive" in per_seed:
            v = "inconclusive"
        elif straddle:
            v = "borderline"
        else:
            v = per_seed[0] if len(counts) == 1 else "inconclusive"
        against_ = {}
        for m, t in seed_thresholds(key):
            against_.setdefault(m, []).append(f"{t:g}")
        intervals = "; ".join(f"{m} {_seed_interval(seeds.summary[m])} against {' and '.join(ts)}"
                              for m, ts in against_.items())
        claim, _, net = key.rpartition("_")
        rule, what = SEED_CLAIMS[claim], ABSOLUTE_WHAT.get(claim.removesuffix("_absolute"))
        out.append(Verdict(f"{key}/seeds", SEEDS.claim.format(claim=rule.claim.format(net=net, what=what)), SEEDS.paper,
                           ", ".join(f"{c}/{n} {v_}" for v_, c in counts.items()),
                           intervals + ("; contains its threshold: " + ", ".join(m for m, _ in straddle)
                                        if straddle else ""), v))
    return out


def shuffled_clause(verdict: str, control_layer: int | None) -> str:
    """:data:`SHUFFLED_CONTROL` on one seed's settling verdict: "no evidence" where it holds and the same
    net trained on shuffled labels settles (``control_layer``, on the same scale) by layer ``by_layer``
    too; any other verdict as it was."""
    if verdict == "holds" and control_layer is not None and control_layer <= SHUFFLED_CONTROL.thresholds["by_layer"]:
        return "no evidence"
    return verdict


#: What a verdict says where :data:`MLP_CONTROL`'s learning clause left it unopposed (:func:`control_learned`).
UNTRAINED_CONTROL = "holds against the raw input and the untrained net; the non-residual control did not train"


def control_learned(val_acc: float | None, n_classes: int) -> bool | None:
    """:data:`MLP_CONTROL`'s learning clause: whether a control net learned, its validation accuracy at least
    ``learned_points`` above chance (1 / ``n_classes``); None where its accuracy was not recorded."""
    return None if val_acc is None else 100 * val_acc >= round(100 / n_classes + MLP_CONTROL.thresholds["learned_points"], 6)


def mlp_distance_clause(verdict: str, mlp_ratio: float, control_ratio: float) -> str:
    """:data:`MLP_CONTROL` on one seed's Fig. 1C verdict: "no evidence" where it holds and the trained
    non-residual net's mean within/between ratio is at least ``distance_margin`` below the better
    of the raw input's and the untrained net's (``control_ratio``)."""
    if verdict == "holds" and mlp_ratio <= round(control_ratio - MLP_CONTROL.thresholds["distance_margin"], 6):
        return "no evidence"
    return verdict


def mlp_tsne_clause(verdict: str, mlp_silhouette: float, control_silhouette: float) -> str:
    """:data:`MLP_CONTROL` on one seed's Fig. 1D verdict: "no evidence" where it holds and the trained
    non-residual net's silhouette beats the better control's (``control_silhouette``) by
    ``silhouette_margin``."""
    if verdict == "holds" and mlp_silhouette >= round(control_silhouette + MLP_CONTROL.thresholds["silhouette_margin"], 6):
        return "no evidence"
    return verdict


def intervention(factor: str, net: str, regime: str, trained: list[int | None], undone: list[int | None]) -> Verdict:
    """:data:`INTERVENTION` for one factor (key of :data:`INTERVENTION_UNDO`), net and regime, from every
    seed's settling layer as trained (``trained``) and with the factor undone (``undone``, the same
    seeds in order; None: never settles). Key ``intervention_<factor>_<regime>_<net>``."""
    if len(trained) != len(undone):
        raise ValueError(f"trained and undone must give the same seeds, got {len(trained)} and {len(undone)} layers.")
    margin = INTERVENTION.thresholds["margin"]
    settled = [(a, b) for a, b in zip(trained, undone) if a is not None]
    moved = sum(b is None or b >= a + margin for a, b in settled)
    if not settled:
        v = "inconclusive"
    else:
        v = "holds" if moved == len(settled) else "partly" if moved else "does not"
    show = lambda xs: ", ".join("never" if x is None else str(x) for x in xs)  # noqa: E731
    return Verdict(f"intervention_{factor}_{regime}_{net}",
                   INTERVENTION.claim.format(factor=factor, net=net, regime=regime_name(regime).removesuffix(" regime")),
                   INTERVENTION.paper,
                   f"undone ({INTERVENTION_UNDO[factor]}): settling layer {show(undone)}; delayed by {margin}+ or "
                   f"removed in {moved} of {len(settled)} settling seeds",
                   f"as trained: settling layer {show(trained)}", v)


def _interval(i) -> str:
    if i.low is None:
        return f"{i.mean:.2f} (one seed)" if i.mean is not None else "undefined"
    return f"{i.mean:+.2f} [{i.low:+.2f}, {i.high:+.2f}]"


def depth_matters(family: str, gain) -> Verdict:
    """:data:`DEPTH_MATTERS` for one family: ``gain`` the Interval (points) of deep minus 1-block accuracy."""
    return Verdict(f"depth_matters_{family}", DEPTH_MATTERS.claim.format(family=family), DEPTH_MATTERS.paper,
                   f"deep minus 1 block: {_interval(gain)} points", f"margin {DEPTH_MATTERS.thresholds['margin']:g} points",
                   against(gain.low, gain.high, DEPTH_MATTERS.thresholds["margin"]))


def ranks_removable(family: str, difference, best_peer: str, depth_verdict: str) -> Verdict:
    """:data:`RANKS_REMOVABLE` for one family: ``difference`` the Interval of the paper's score minus
    ``best_peer``'s; ``depth_verdict`` that family's :func:`depth_matters` verdict."""
    margin = RANKS_REMOVABLE.thresholds["margin"]
    v = "inconclusive" if depth_verdict == "does not" else against(difference.low, difference.high, -margin)
    return Verdict(f"ranks_removable_{family}", RANKS_REMOVABLE.claim.format(family=family), RANKS_REMOVABLE.paper,
                   f"paper's score minus {best_peer}'s: {_interval(difference)}",
                   f"depth matters: {depth_verdict}", v)


def adaptive_keeps(family: str, change, *, removed_any: bool, untrained_below: int, n_seeds: int) -> Verdict:
    """:data:`ADAPTIVE_KEEPS` for one family: ``change`` the Interval (points) of the adaptive net's
    test accuracy minus the deep net's; ``untrained_below`` the seeds whose untrained net's criterion
    is below the threshold."""
    tol = ADAPTIVE_KEEPS.thresholds["tolerance"]
    if untrained_below > n_seeds / 2:
        v = "no evidence"
    elif not removed_any:
        v = "inconclusive"
    else:
        v = against(change.low, change.high, -tol)
    return Verdict(f"adaptive_keeps_{family}", ADAPTIVE_KEEPS.claim.format(family=family), ADAPTIVE_KEEPS.paper,
                   f"adaptive minus deep: {_interval(change)} points",
                   f"untrained criterion below threshold in {untrained_below}/{n_seeds} seeds", v)


__all__ = ["regime_name", "in_order", "in_regime_order", "against", "SEED_CLAIMS", "UNTRAINED_CONTROL", "control_learned",
           "bounded_interval", "seed_thresholds", "over_seeds", "shuffled_clause", "mlp_distance_clause", "mlp_tsne_clause",
           "intervention", "depth_matters", "ranks_removable", "adaptive_keeps"]
