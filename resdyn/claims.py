"""The paper's claims, what we measure for each, and the rule that turns it into a verdict.

The rules were fixed before the full runs; a notebook prints its verdicts in a checked cell, the
report renders all of them, and CI fails when a verdict of the full run changes.

Verdicts: "holds", "partly", "does not", or "n/a" (nothing in the paper to compare with).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

#: The paper's numbers (NIPS 2018 submission; 1.4 % and 1.8 % from the ICLR 2019 version).
PAPER = {
    "error_shared": 1.4,
    "error_separate": 1.8,
    "std_layer": 6,
    "pruned_depth": 5,
    "threshold": 0.01,
}
NETS = ("separate", "shared")


@dataclass(frozen=True)
class Verdict:
    key: str
    claim: str
    paper: str
    ours: str
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


def accuracy(acc: dict) -> list[Verdict]:
    """acc: {"separate": test accuracy, "shared": ...} (fractions).
    holds: error within 0.3 points of the paper's or better; partly: within 1 point."""
    out = []
    for net in NETS:
        paper = PAPER[f"error_{net}"]
        err = 100 * (1 - acc[net])
        v = "holds" if err <= paper + 0.3 else "partly" if err <= paper + 1.0 else "does not"
        out.append(Verdict(f"error_{net}", f"15-layer net, {net} weights: MNIST test error",
                           f"{paper:.1f} %", f"{err:.2f} %", v))
    return out


def _settling_verdict(L: int | None) -> str:
    """holds: by layer 7 (the paper: about 6); partly: later; does not: never."""
    return "does not" if L is None else "holds" if L <= PAPER["std_layer"] + 1 else "partly"


def std_convergence(layers: dict, depth: int) -> list[Verdict]:
    """layers: {"separate": first layer with std < 5 % of peak (or None), "shared": ...}.
    holds: by layer 7 (the paper: about 6); partly: later but before the last layer; does not: never."""
    return [Verdict(f"std_layer_{net}", f"across-sample std of residuals near 0 after a layer ({net})",
                    f"about layer {PAPER['std_layer']}",
                    "never" if layers[net] is None else f"layer {layers[net]} of {depth}", _settling_verdict(layers[net]))
            for net in NETS]


def mean_settling(layers: dict, depth: int) -> list[Verdict]:
    """layers: {"separate": first layer from which the class-mean residuals change by < 5 % of the peak
    change per layer (or None), "shared": ...}. Same rule as :func:`std_convergence`."""
    return [Verdict(f"mean_layer_{net}", f"class-mean residuals stop changing after a layer ({net})",
                    f"after layer {PAPER['std_layer']}",
                    "never" if layers[net] is None else f"after layer {layers[net]} of {depth}",
                    _settling_verdict(layers[net]))
            for net in NETS]


def distance_ratio(ratios: dict) -> list[Verdict]:
    """ratios: {"separate": [within/between per class], ...}.
    holds: below 1 for every class; partly: for at least half; does not: otherwise."""
    out = []
    for net in NETS:
        r = ratios[net]
        below = sum(x < 1 for x in r)
        v = "holds" if below == len(r) else "partly" if 2 * below >= len(r) else "does not"
        out.append(Verdict(f"distance_{net}", f"trajectories closer within than between classes ({net})",
                           "within < between for each class",
                           f"ratio {min(r):.2f}-{max(r):.2f}, below 1 for {below}/{len(r)} classes", v))
    return out


def tsne_clusters(sep: dict) -> list[Verdict]:
    """sep: {"separate": {"knn_accuracy", "silhouette"}, ...}.
    holds: kNN accuracy >= 0.9 and silhouette >= 0.3; partly: one of the two; does not: neither."""
    out = []
    for net in NETS:
        knn, sil = sep[net]["knn_accuracy"], sep[net]["silhouette"]
        n_ok = (knn >= 0.9) + (sil >= 0.3)
        v = {2: "holds", 1: "partly", 0: "does not"}[n_ok]
        out.append(Verdict(f"tsne_{net}", f"t-SNE of x(T): one cluster per class ({net})", "separate clusters",
                           f"kNN acc {knn:.3f}, silhouette {sil:.2f}", v))
    return out


def adaptive_depth(adaptive: dict) -> list[Verdict]:
    """adaptive: {"shared": {"initial_depth", "final_depth", "test_acc", "full_test_acc"}, "separate": ...}.
    Shared (the paper's claim, threshold 0.01): depth_ok = final depth <= 6 (paper: 5),
    acc_ok = accuracy at most 0.5 points below the unpruned net trained the same way.
    holds: both; partly: pruned at all with acc_ok, or depth_ok without acc_ok; does not: otherwise.
    Separate: no MNIST claim in the paper (its toy example keeps all layers): n/a."""
    out = []
    for net in NETS:
        a = adaptive[net]
        diff = 100 * (a["test_acc"] - a["full_test_acc"])
        ours = f"depth {a['final_depth']} of {a['initial_depth']}, accuracy {diff:+.2f} points"
        if net == "shared":
            depth_ok = a["final_depth"] <= PAPER["pruned_depth"] + 1
            acc_ok = diff >= -0.5
            pruned = a["final_depth"] < a["initial_depth"]
            v = "holds" if depth_ok and acc_ok else "partly" if (pruned and acc_ok) or depth_ok else "does not"
            paper = f"{PAPER['pruned_depth']} layers, no significant accuracy change"
        else:
            v, paper = "n/a", "not reported for MNIST"
        out.append(Verdict(f"adaptive_{net}", f"adaptive depth, threshold {PAPER['threshold']} ({net})", paper, ours, v))
    return out


def format_table(verdicts: list[Verdict]) -> str:
    """A plain-text table for a notebook's checked cell."""
    rows = [(v.key, v.paper, v.ours, v.verdict) for v in verdicts]
    widths = [max(len(r[i]) for r in rows + [("claim", "paper", "ours", "verdict")]) for i in range(4)]
    line = lambda r: "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()
    return "\n".join([line(("claim", "paper", "ours", "verdict"))] + [line(r) for r in rows])


def all_verdicts(results: dict) -> list[Verdict]:
    """Every verdict that the merged results allow (sections missing from ``results`` are skipped)."""
    r = results
    out = []
    if "fig1ab" in r:
        a = r["fig1ab"]
        out += accuracy(a["test_acc"]) + mean_settling(a["mean_layer"], a["depth"]) + std_convergence(a["std_layer"], a["depth"])
    if "fig1c" in r:
        out += distance_ratio(r["fig1c"]["ratio"])
    if "fig1d" in r:
        out += tsne_clusters(r["fig1d"]["separation"])
    if "adaptive" in r:
        out += adaptive_depth(r["adaptive"]["nets"])
    return out
