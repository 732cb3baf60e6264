"""The verdicts of one run's record: each paper section's rule applied to its numbers and its controls
(the raw input and the untrained net). The notebooks show them with :mod:`resdyn.studies.verdict_text`."""
from __future__ import annotations

from resdyn.core.claims.rules import (NETS, PAPER, Rule, Verdict, ERROR, MEAN_SETTLING, STD_SETTLING, DISTANCE, TSNE,
                                      ADAPTIVE, TOY, ABSOLUTE_SETTLING, TOY_PAPER, ABSOLUTE_WHAT)


def _points(fraction: float) -> float:
    """A fraction in percentage points, without the float noise of the subtraction (1 - 0.979 is
    0.02100000000000002), so that a value on a threshold is judged as it is printed."""
    return round(100 * fraction, 6)


def distance_control(fig1c, net: str) -> float:
    """The better (lower) control's mean within/between ratio for ``net``: raw input or untrained net."""
    return min(fig1c.raw.mean_ratio, fig1c.untrained[net].mean_ratio)


def tsne_controls(fig1d, net: str) -> tuple:
    """The controls of ``net``'s t-SNE: the raw input's and the untrained net's separation."""
    return (fig1d.raw, fig1d.untrained[net])


def on_limit(value: float, limit: float) -> bool:
    """Whether ``value`` equals ``limit`` as the report prints them, to 0.01 (a percent to 0.01 point): a
    number on its limit is borderline, as a seed interval containing it is."""
    return abs(value - limit) < 0.005


def accuracy(fig1ab) -> list[Verdict]:
    """:data:`ERROR` for both nets of a :class:`resdyn.studies.sections.fig1ab.Fig1AB`."""
    th = ERROR.thresholds
    out = []
    for net in NETS:
        paper = PAPER[f"error_{net}"]
        err = _points(1 - fig1ab.nets[net].test_acc)
        v = ("borderline" if any(on_limit(err, paper + th[k]) for k in ("holds", "partly")) else "holds" if err <= paper + th["holds"] else "partly" if err <= paper + th["partly"]
             else "does not")
        out.append(Verdict(f"error_{net}", ERROR.claim.format(net=net), ERROR.paper.format(paper=paper),
                           f"{err:.2f} %", "chance: 90 %", v))
    return out


def _settling(rule: Rule, layer: int | None, control: int | None) -> str:
    th = rule.thresholds
    if layer is None:
        return "does not"
    if layer > th["by_layer"]:
        return "partly"
    return "holds" if control is None or control >= layer + th["margin"] else "no evidence"


def _layer(layer: int | None, depth: int, prefix: str) -> str:
    return "never" if layer is None else f"{prefix} {layer} of {depth}"


def settling(fig1ab) -> list[Verdict]:
    """:data:`MEAN_SETTLING` (Fig. 1A) and :data:`STD_SETTLING` (Fig. 1B) for both nets, against the
    untrained nets; the raw input's spread is given as the scale."""
    depth, out = fig1ab.depth, []
    for rule, attr, prefix in ((MEAN_SETTLING, "mean_layer", "after layer"), (STD_SETTLING, "std_layer", "layer")):
        for net in NETS:
            layer = getattr(fig1ab.trained[net].profile, attr)
            control = getattr(fig1ab.untrained[net].profile, attr)
            controls = f"untrained: {_layer(control, depth, prefix)}"
            if attr == "std_layer":
                controls += f"; input spread {fig1ab.input_std:.2f}"
            out.append(Verdict(f"{rule.key}_{net}", rule.claim.format(net=net), rule.paper,
                               _layer(layer, depth, prefix), controls, _settling(rule, layer, control)))
    return out


def absolute_settling(fig1ab) -> list[Verdict]:
    """:data:`ABSOLUTE_SETTLING` for the class means (Fig. 1A) and the across-sample std (Fig. 1B) of
    both nets, against the untrained nets on the same scale."""
    depth, out = fig1ab.depth, []
    for kind, paper, prefix in (("mean", MEAN_SETTLING.paper, "after layer"), ("std", STD_SETTLING.paper, "layer")):
        for net in NETS:
            layer = getattr(fig1ab.trained[net].profile.sensitivity, f"{kind}_layer_absolute")
            control = getattr(fig1ab.untrained[net].profile.sensitivity, f"{kind}_layer_absolute")
            v = _settling(ABSOLUTE_SETTLING, layer, control)
            if v == "partly" and control is not None and control < layer + ABSOLUTE_SETTLING.thresholds["margin"]:
                v = "no evidence"  # late, and the untrained net gets there too
            out.append(Verdict(f"{kind}_absolute_{net}", ABSOLUTE_SETTLING.claim.format(what=ABSOLUTE_WHAT[kind], net=net),
                               paper, _layer(layer, depth, prefix), f"untrained: {_layer(control, depth, prefix)}", v))
    return out


def no_evidence_unless(verdict: str, beats_controls: bool) -> str:
    """``verdict`` where the trained net beats its controls by the rule's margin (``beats_controls``);
    "no evidence" where it meets the claim's test (any verdict but "does not") and a control does as well."""
    return "no evidence" if verdict != "does not" and not beats_controls else verdict


def distance_ratio(fig1c) -> list[Verdict]:
    """:data:`DISTANCE` for both nets of a :class:`resdyn.studies.sections.fig1c.Fig1C`, against the raw inputs and
    the untrained nets."""
    th, out = DISTANCE.thresholds, []
    for net in NETS:
        r = fig1c.trained[net].ratio
        below = sum(x < th["below"] for x in r)
        v = "holds" if below == len(r) else "partly" if 2 * below >= len(r) else "does not"
        mean = fig1c.trained[net].mean_ratio
        v = no_evidence_unless(v, mean <= round(distance_control(fig1c, net) - th["margin"], 6))
        out.append(Verdict(f"distance_{net}", DISTANCE.claim.format(net=net), DISTANCE.paper,
                           f"ratio {min(r):.2f}-{max(r):.2f} (mean {mean:.2f}), below 1 for {below}/{len(r)} classes",
                           f"mean ratio: raw input {fig1c.raw.mean_ratio:.2f}, untrained "
                           f"{fig1c.untrained[net].mean_ratio:.2f}", v))
    return out


def tsne_clusters(fig1d) -> list[Verdict]:
    """:data:`TSNE` for both nets of a :class:`resdyn.studies.sections.fig1d.Fig1D`, against the raw input and the
    untrained nets."""
    th, out = TSNE.thresholds, []
    for net in NETS:
        s = fig1d.trained[net]
        n_ok = (s.knn_accuracy >= th["knn"]) + (s.silhouette >= th["silhouette"])
        v = {2: "holds", 1: "partly", 0: "does not"}[n_ok]
        controls = tsne_controls(fig1d, net)
        beats = all(s.knn_accuracy >= round(c.knn_accuracy + th["knn_margin"], 6)
                    and s.silhouette >= round(c.silhouette + th["silhouette_margin"], 6) for c in controls)
        v = no_evidence_unless(v, beats)
        out.append(Verdict(f"tsne_{net}", TSNE.claim.format(net=net), TSNE.paper,
                           f"kNN acc {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}",
                           f"raw input {fig1d.raw.knn_accuracy:.3f} / {fig1d.raw.silhouette:.2f}; untrained "
                           f"{fig1d.untrained[net].knn_accuracy:.3f} / {fig1d.untrained[net].silhouette:.2f}", v))
    return out


def adaptive_depth(adaptive) -> list[Verdict]:
    """:data:`ADAPTIVE` for the shared net of a :class:`resdyn.studies.sections.adaptive.AdaptiveDepth`; separate
    weights: n/a (no MNIST claim in the paper; its toy example keeps all layers)."""
    th, out = ADAPTIVE.thresholds, []
    for net in NETS:
        a = adaptive.nets[net]
        diff = _points(a.test_acc - a.full_test_acc)
        ours = f"depth {a.final_depth} of {a.initial_depth}{' (censored)' if a.censored else ''}, " \
               f"accuracy {diff:+.2f} points"
        controls = f"criterion of the trained 15-layer net stops pruning at depth {adaptive.profiles[net].stop_depth}"
        if net != "shared":
            v, paper = "n/a", "not reported for MNIST"
        elif a.censored:
            v, paper = "inconclusive", ADAPTIVE.paper
        else:
            depth_ok, acc_ok = a.final_depth <= th["max_depth"], diff >= -th["max_loss"]
            pruned = a.final_depth < a.initial_depth
            v = "holds" if depth_ok and acc_ok else "partly" if (pruned and acc_ok) or depth_ok else "does not"
            paper = ADAPTIVE.paper
        out.append(Verdict(f"adaptive_{net}", ADAPTIVE.claim.format(net=net), paper, ours, controls, v))
    return out


def toy_verdicts(record) -> list[Verdict]:
    """:data:`TOY` for both nets of a :class:`resdyn.studies.sections.toy.ToyCircles`. The control column gives the
    criterion before training: where it is already under the threshold, the untrained net would be
    pruned too."""
    th, out = TOY.thresholds, []
    for net in NETS:
        a = record.nets[net]
        ours = (f"depth {a.final_depth} of {a.initial_depth}{' (censored)' if a.censored else ''}, "
                f"test accuracy {100 * a.test_acc:.1f} %")
        controls = f"criterion before training {a.initial_criterion:.1e} (threshold {record.threshold:g})"
        if a.initial_criterion < record.threshold:
            v = "no evidence"
        elif a.censored:
            v = "inconclusive"
        elif net == "shared":
            depth_ok = a.final_depth <= th["max_depth"]
            acc_ok = _points(a.test_acc) >= _points(th["min_acc"])
            pruned = a.final_depth < a.initial_depth
            v = "holds" if depth_ok and acc_ok else "partly" if (pruned and acc_ok) or depth_ok else "does not"
        else:
            v = "holds" if a.final_depth == a.initial_depth == th["depth"] else "does not"
        out.append(Verdict(f"toy_{net}", TOY.claim.format(net=net), TOY_PAPER[net], ours, controls, v))
    return out


def verdicts(results, sections) -> list[Verdict]:
    """Every verdict the record allows, in the order of ``sections`` (the registry,
    :data:`resdyn.studies.sections.SECTIONS`): each entry's ``verdicts`` rule applied to its record; sections
    the record lacks are skipped."""
    out = []
    for section in sections:
        record = getattr(results, section.name, None)
        if section.verdicts is not None and record is not None:
            out += section.verdicts(record)
    return out


__all__ = ["distance_control", "tsne_controls", "on_limit", "accuracy", "settling", "absolute_settling", "distance_ratio",
           "tsne_clusters", "adaptive_depth", "toy_verdicts", "verdicts"]
