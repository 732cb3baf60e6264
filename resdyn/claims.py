"""The paper's claims, the rule that turns each measurement into a verdict, and the verdicts.

Each :class:`Rule` holds the claim's wording, its thresholds and the rule's wording built from them,
and when it was written: the report and the notebooks render rules from here, and
:func:`verdicts` applies them to a record (:class:`resdyn.results.Results`). Verdicts are computed
once per run, by ``resdyn reproduce``, and stored in results.json.

Verdicts: "holds", "partly", "does not", or "n/a" (nothing in the paper to compare with).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

NETS = ("separate", "shared")

#: The paper's numbers (NIPS 2018 submission; 1.4 % and 1.8 % from the longer version).
PAPER = {"error_shared": 1.4, "error_separate": 1.8, "settling_layer": 6, "pruned_depth": 5}


@dataclass(frozen=True)
class Rule:
    """A verdict rule. ``text`` is the rule in words with ``{name}`` placeholders for ``thresholds``;
    ``written`` says when it was fixed, ``changed`` any change made after a run that it judged."""

    key: str
    claim: str
    paper: str
    text: str
    thresholds: dict = field(default_factory=dict)
    written: str = "before the first full run (session 1)"
    changed: str = ""

    def describe(self) -> str:
        return self.text.format(**self.thresholds)


@dataclass(frozen=True)
class Verdict:
    key: str
    claim: str
    paper: str
    ours: str
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


ERROR = Rule(
    "error", "15-layer net, {net} weights: MNIST test error", "{paper:.1f} %",
    "holds if the test error is at most {holds} points above the paper's, partly if at most {partly} points above",
    {"holds": 0.3, "partly": 1.0})
MEAN_SETTLING = Rule(
    "mean_layer", "class-mean residuals stop changing after a layer ({net})", "after layer 6",
    "holds if the change of the class-mean residuals from one layer to the next stays below {fraction:.0%} of its "
    "peak from layer {by_layer} or earlier, partly if from a later layer",
    {"fraction": 0.05, "by_layer": PAPER["settling_layer"] + 1},
    changed="added after the first full run, with the Fig. 1B rule's thresholds unchanged")
STD_SETTLING = Rule(
    "std_layer", "across-sample std of residuals near 0 after a layer ({net})", "about layer 6",
    "holds if the across-sample standard deviation of the residuals stays below {fraction:.0%} of its peak from "
    "layer {by_layer} or earlier, partly if from a later layer",
    {"fraction": 0.05, "by_layer": PAPER["settling_layer"] + 1})
DISTANCE = Rule(
    "distance", "trajectories closer within than between classes ({net})", "within < between for each class",
    "holds if the within/between distance ratio is below {below} for every class, partly if for at least half",
    {"below": 1.0})
TSNE = Rule(
    "tsne", "t-SNE of x(T): one cluster per class ({net})", "separate clusters",
    "holds if the kNN accuracy in the embedding is at least {knn} and the silhouette at least {silhouette}, "
    "partly if one of the two",
    {"knn": 0.9, "silhouette": 0.3})
ADAPTIVE = Rule(
    "adaptive", "adaptive depth, threshold 0.01 ({net})", "5 layers, no significant accuracy change",
    "holds if the shared net ends at {max_depth} layers or fewer and loses at most {max_loss} points against the "
    "unpruned net trained the same way; partly if it is pruned without that loss, or reaches the depth with it",
    {"max_depth": PAPER["pruned_depth"] + 1, "max_loss": 0.5})

RULES = (ERROR, MEAN_SETTLING, STD_SETTLING, DISTANCE, TSNE, ADAPTIVE)


# ----------------------------------------------------------------------------------------------


def accuracy(fig1ab) -> list[Verdict]:
    """:data:`ERROR` for both nets of a :class:`resdyn.paper.Fig1AB`."""
    th = ERROR.thresholds
    out = []
    for net in NETS:
        paper = PAPER[f"error_{net}"]
        err = _points(1 - fig1ab.nets[net].test_acc)
        v = "holds" if err <= paper + th["holds"] else "partly" if err <= paper + th["partly"] else "does not"
        out.append(Verdict(f"error_{net}", ERROR.claim.format(net=net), ERROR.paper.format(paper=paper),
                           f"{err:.2f} %", v))
    return out


def _points(fraction: float) -> float:
    """A fraction in percentage points, without the float noise of the subtraction (1 - 0.979 is
    0.02100000000000002), so that a value on a threshold is judged as it is printed."""
    return round(100 * fraction, 6)


def _settling(rule: Rule, layer: int | None) -> str:
    return "does not" if layer is None else "holds" if layer <= rule.thresholds["by_layer"] else "partly"


def settling(fig1ab) -> list[Verdict]:
    """:data:`MEAN_SETTLING` (Fig. 1A) and :data:`STD_SETTLING` (Fig. 1B) for both nets."""
    depth, out = fig1ab.depth, []
    for rule, attr, prefix in ((MEAN_SETTLING, "mean_layer", "after layer"), (STD_SETTLING, "std_layer", "layer")):
        for net in NETS:
            layer = getattr(fig1ab.profiles[net], attr)
            ours = "never" if layer is None else f"{prefix} {layer} of {depth}"
            out.append(Verdict(f"{rule.key}_{net}", rule.claim.format(net=net), rule.paper, ours, _settling(rule, layer)))
    return out


def distance_ratio(fig1c) -> list[Verdict]:
    """:data:`DISTANCE` for both nets of a :class:`resdyn.paper.Fig1C`."""
    out = []
    for net in NETS:
        r = fig1c.ratio[net]
        below = sum(x < DISTANCE.thresholds["below"] for x in r)
        v = "holds" if below == len(r) else "partly" if 2 * below >= len(r) else "does not"
        out.append(Verdict(f"distance_{net}", DISTANCE.claim.format(net=net), DISTANCE.paper,
                           f"ratio {min(r):.2f}-{max(r):.2f}, below 1 for {below}/{len(r)} classes", v))
    return out


def tsne_clusters(fig1d) -> list[Verdict]:
    """:data:`TSNE` for both nets of a :class:`resdyn.paper.Fig1D`."""
    out = []
    for net in NETS:
        s = fig1d.separation[net]
        n_ok = (s.knn_accuracy >= TSNE.thresholds["knn"]) + (s.silhouette >= TSNE.thresholds["silhouette"])
        out.append(Verdict(f"tsne_{net}", TSNE.claim.format(net=net), TSNE.paper,
                           f"kNN acc {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}",
                           {2: "holds", 1: "partly", 0: "does not"}[n_ok]))
    return out


def adaptive_depth(adaptive) -> list[Verdict]:
    """:data:`ADAPTIVE` for the shared net of a :class:`resdyn.paper.AdaptiveDepth`; separate
    weights: n/a (no MNIST claim in the paper; its toy example keeps all layers)."""
    th, out = ADAPTIVE.thresholds, []
    for net in NETS:
        a = adaptive.nets[net]
        diff = _points(a.test_acc - a.full_test_acc)
        ours = f"depth {a.final_depth} of {a.initial_depth}, accuracy {diff:+.2f} points"
        if net == "shared":
            depth_ok, acc_ok = a.final_depth <= th["max_depth"], diff >= -th["max_loss"]
            pruned = a.final_depth < a.initial_depth
            v = "holds" if depth_ok and acc_ok else "partly" if (pruned and acc_ok) or depth_ok else "does not"
            paper = ADAPTIVE.paper
        else:
            v, paper = "n/a", "not reported for MNIST"
        out.append(Verdict(f"adaptive_{net}", ADAPTIVE.claim.format(net=net), paper, ours, v))
    return out


def verdicts(results) -> list[Verdict]:
    """Every verdict the record allows (sections it lacks are skipped), in the report's order."""
    out = []
    if results.fig1ab is not None:
        out += accuracy(results.fig1ab) + settling(results.fig1ab)
    if results.fig1c is not None:
        out += distance_ratio(results.fig1c)
    if results.fig1d is not None:
        out += tsne_clusters(results.fig1d)
    if results.adaptive is not None:
        out += adaptive_depth(results.adaptive)
    return out


def format_table(verdicts: list[Verdict]) -> str:
    """A plain-text table for a notebook's checked cell."""
    rows = [(v.key, v.paper, v.ours, v.verdict) for v in verdicts]
    widths = [max(len(r[i]) for r in rows + [("claim", "paper", "ours", "verdict")]) for i in range(4)]
    line = lambda r: "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(("claim", "paper", "ours", "verdict"))] + [line(r) for r in rows])


def table(**sections) -> str:
    """The verdicts of the given sections (``fig1ab=...``, ``fig1c=...``) as a checked cell prints them."""
    from types import SimpleNamespace

    record = SimpleNamespace(**{s: sections.get(s) for s in ("fig1ab", "fig1c", "fig1d", "adaptive")})
    return format_table(verdicts(record))
