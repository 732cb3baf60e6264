"""The paper's claims, the rule that turns each measurement into a verdict, and the verdicts.

Each :class:`Rule` holds the claim's wording, its thresholds, the rule's wording built from them,
when it was written and how it changed since: the report and the notebooks render rules from here,
and :func:`verdicts` applies them to a record (:class:`resdyn.results.Results`). Verdicts are
computed once per run, by ``resdyn reproduce``, and stored in results.json.

Every figure claim is judged against its controls: the raw input x(0) and an untrained net of the
same configuration and seed. A claim holds only if the trained net beats both controls by the
rule's margin; if it meets the claim's test but not the margin, the verdict is "no evidence" (the
controls meet the claim too: no evidence of learning).

Verdicts: "holds", "partly", "borderline" (the seed interval of the measured value contains the
rule's threshold), "does not", "no evidence", "inconclusive" (the measurement cannot decide, e.g. a
censored depth), or "n/a" (nothing in the paper to compare with).

This module is the ledger of every number a rule, a plot or the report uses: the kinds of weights
(:data:`NETS`), the paper's values (:data:`PAPER`), each rule's thresholds and margins, and the
study's two decision rules (:data:`ASSOCIATION`, :data:`REGIME_DECISION`). Nothing else in the
package types a threshold.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

#: The two kinds of weights the paper trains, in the order every table lists them.
NETS = ("separate", "shared")
VERDICTS = ("holds", "partly", "borderline", "does not", "no evidence", "inconclusive", "n/a")

#: The paper's numbers (NIPS 2018 submission; 1.4 % and 1.8 % from the longer version).
PAPER = {"error_shared": 1.4, "error_separate": 1.8, "settling_layer": 6, "pruned_depth": 5}
#: The paper's own scale for "near 0": 0.01 per neuron (its adaptive threshold), used as an absolute
#: settling threshold beside the rules' relative one.
PAPER_SCALE = 0.01
_CONTROLS = "2026-11-28 (session 4), before the first run with controls"


@dataclass(frozen=True)
class Rule:
    """A verdict rule. ``text`` is the rule in words with ``{name}`` placeholders for ``thresholds``;
    ``written`` says when it was fixed, ``changed`` every change made after a run it had judged."""

    key: str
    claim: str
    paper: str
    text: str
    thresholds: dict = field(default_factory=dict)
    written: str = "before the first full run (session 1)"
    changed: tuple[str, ...] = ()

    def describe(self) -> str:
        return self.text.format(**self.thresholds)


@dataclass(frozen=True)
class Verdict:
    """One claim on one net: what the paper says, what we measured, what the controls gave, the verdict."""

    key: str
    claim: str
    paper: str
    ours: str
    controls: str
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
    "peak from layer {by_layer} or earlier and the untrained net of the same seed does not settle until at least "
    "{margin} layers later; no evidence if it does; partly if the trained net settles after layer {by_layer}",
    {"fraction": 0.05, "by_layer": PAPER["settling_layer"] + 1, "margin": 2},
    changed=("added after the first full run, with the Fig. 1B rule's thresholds",
             f"the untrained-net control and its margin added on {_CONTROLS}"))
STD_SETTLING = Rule(
    "std_layer", "across-sample std of residuals near 0 after a layer ({net})", "about layer 6",
    "holds if the across-sample standard deviation of the residuals stays below {fraction:.0%} of its peak from "
    "layer {by_layer} or earlier and the untrained net of the same seed does not settle until at least {margin} "
    "layers later; no evidence if it does; partly if the trained net settles after layer {by_layer}",
    {"fraction": 0.05, "by_layer": PAPER["settling_layer"] + 1, "margin": 2},
    changed=(f"the untrained-net control and its margin added on {_CONTROLS}",))
DISTANCE = Rule(
    "distance", "trajectories closer within than between classes ({net})", "within < between for each class",
    "holds if the within/between distance ratio is below {below} for every class and its mean over classes is at "
    "least {margin} below that of both controls (the raw inputs and the untrained net's trajectories); partly if "
    "below {below} for at least half of the classes, with the same margin; no evidence without the margin",
    {"below": 1.0, "margin": 0.05},
    changed=(f"the controls and the margin added on {_CONTROLS}",))
TSNE = Rule(
    "tsne", "t-SNE of x(T): one cluster per class ({net})", "separate clusters",
    "holds if the kNN accuracy in the embedding is at least {knn} and the silhouette at least {silhouette}, "
    "partly if one of the two; either only if it beats both controls (t-SNE of the raw input and of the untrained "
    "net's x(T)) by at least {knn_margin} in kNN accuracy and {silhouette_margin} in silhouette, else no evidence",
    {"knn": 0.9, "silhouette": 0.3, "knn_margin": 0.01, "silhouette_margin": 0.05},
    changed=(f"the controls and the margins added on {_CONTROLS}",))
ADAPTIVE = Rule(
    "adaptive", "adaptive depth, threshold 0.01 ({net})", "5 layers, no significant accuracy change",
    "inconclusive if the final depth is censored (the criterion was under the threshold at every check, or still "
    "under it when training ended, or the run hit its minimum depth); otherwise holds if the shared net ends at "
    "{max_depth} layers or fewer and loses at most {max_loss} points of test accuracy against the unpruned net "
    "trained the same way, partly if it is pruned without that loss or reaches the depth with it",
    {"max_depth": PAPER["pruned_depth"] + 1, "max_loss": 0.5},
    changed=(f"'inconclusive' for a censored depth added, and no layer removed after the last epoch, on {_CONTROLS}",))

TOY = Rule(
    "toy", "two circles, adaptive depth from 15 layers, threshold 0.01 ({net} weights)", "{paper}",
    "no evidence if the criterion of the net before training is already under the threshold (the rule would remove "
    "layers whatever is learned); else inconclusive if the final depth is censored (the criterion was under the "
    "threshold at every check, or still under it when training ended, or the run hit its minimum depth); otherwise "
    "shared weights: holds if the net ends "
    "at {max_depth} layers or fewer with test accuracy at least {min_acc:.0%}, partly if it is pruned with that "
    "accuracy or reaches the depth without it, does not otherwise; separate weights: holds if the net keeps all "
    "{depth} layers, does not otherwise",
    {"max_depth": 6, "min_acc": 0.99, "depth": 15},
    written="before the first run of the toy (issue 11, item 6)",
    changed=("the control clause (criterion under the threshold before training: no evidence) added on 2026-12-02 "
             "(session 7, issue 19), before the study's re-run; the toy's earlier verdicts had no control",))

ASSOCIATION = Rule(
    "association", "what goes with settling across the trained nets of the map", "not in the paper",
    "the deep-layer quantity whose Spearman correlation with the deep std ratio has the expected sign (saturation "
    "negative, weight ratio positive) and is the strongest, if |rho| >= {min_rho} with p < {max_p} over at least "
    "{min_nets} nets; else neither",
    {"min_rho": 0.5, "max_p": 0.05, "min_nets": 8, "resamples": 2000},
    written="before the study's first run (issue 11); moved here from resdyn/study.py unchanged (issue 17)",
    changed=("2026-12-02 (session 9, issue 19 item 4), after the study record of session 6 had given rho = -0.50 "
             "against 0.5, before the study's re-run: each rho gets a 95 % bootstrap interval (the trained nets "
             "resampled with replacement 2,000 times, seeded; percentile interval), the sweep's nets are "
             "trained at three seeds instead of one, and a named quantity whose interval contains -min_rho or "
             "+min_rho (by its expected sign) is reported as borderline, not as what goes with settling",))
#: The sign :data:`ASSOCIATION` expects of each quantity's correlation with the deep std ratio.
ASSOCIATION_SIGNS = {"saturation": -1, "weight_ratio": +1}
REGIME_DECISION = Rule(
    "regime_decision", "which regime the paper notebooks run in", "not in the paper",
    "the best paper-scaled candidate (inputs in [0, 1]) replaces today's regime if its validation accuracy is at "
    "most {tolerance} points below today's for both kinds of weights; settling plays no part",
    {"tolerance": 0.1},
    written="before the study's first run (issue 11, item 4); moved here from resdyn/study.py unchanged (issue 17)")

#: The precision comparison (notebook 10): a number moves between fp32 and bf16 if the difference of
#: their means exceeds this many seed spreads (the larger range over seeds of the two precisions).
PRECISION_SPREADS = 1.0
#: The trace study (notebook 11): one block's lesion stands out when it leaves the accuracy lower by at
#: least this much (a fraction) than every other block's lesion does; closer, float noise can reorder them.
LESION_MARGIN = 0.02

_STUDY_1D = "2026-12-02 (session 7), before the MNIST-1D study's first run (issue 21)"
#: The MNIST-1D study's rules (notebooks 12-14). Each compares a seed interval (95 % t-interval of the
#: per-seed values) with a threshold: above it holds, below it does not, containing it borderline.
DEPTH_MATTERS = Rule(
    "depth_matters", "MNIST-1D: depth matters for the {family} family (15 blocks against 1)", "not in the paper",
    "holds if the deep net's test accuracy minus the 1-block net's, over seeds, has its interval above {margin} "
    "points; does not if the interval lies below; borderline if it contains {margin}",
    {"margin": 2.0}, written=_STUDY_1D)
RANKS_REMOVABLE = Rule(
    "ranks_removable", "MNIST-1D: the paper's c(t) ranks removable blocks at least as well as the best peer "
    "criterion ({family})", "not in the paper",
    "score: the area under test accuracy against blocks removed (k = 1 .. T-1, no healing) over the oracle's; "
    "holds if the paper's score minus the best peer's (the peer with the highest mean score) has its seed interval "
    "above -{margin}; does not if below; borderline if it contains -{margin}; inconclusive where depth does not "
    "matter for the family (removal then costs little whatever is removed)",
    {"margin": 0.02}, written=_STUDY_1D)
ADAPTIVE_KEEPS = Rule(
    "adaptive_keeps", "MNIST-1D: the adaptive rule (threshold 0.01) keeps the depth the {family} family needs",
    "removes layers 'without significant change'",
    "no evidence if the criterion of the untrained net is already below the threshold in most seeds (the rule "
    "removes blocks whatever is learned); inconclusive if no block is removed in any seed; otherwise holds if the "
    "adaptive net's test accuracy minus the deep net's has its seed interval above -{tolerance} points, does not "
    "if below, borderline if it contains -{tolerance}",
    {"tolerance": 1.0}, written=_STUDY_1D)
STUDY_1D_RULES = (DEPTH_MATTERS, RANKS_REMOVABLE, ADAPTIVE_KEEPS)

_SESSION_8 = "2026-12-02 (session 8, issue 19)"
ABSOLUTE_SETTLING = Rule(
    "absolute", "on the paper's absolute scale: {what} after a layer ({net})", "{paper}",
    "the settling rules with the paper's own scale for 'near 0' instead of a fraction of the peak: holds if the "
    "change of the class means (Fig. 1A) or the across-sample std (Fig. 1B) stays below {scale} per neuron from layer {by_layer} or earlier and the untrained net of the same seed "
    "does not get there until at least {margin} layers later; partly if the trained net gets there after layer "
    "{by_layer}, with the same margin; no evidence if the untrained net gets there within the margin, early or late; "
    "does not if never",
    {"scale": PAPER_SCALE, "by_layer": PAPER["settling_layer"] + 1, "margin": 2},
    written=f"{_SESSION_8}, item 2; after the session-7 report had said that the untrained nets meet this scale, "
            "before the paper run that it first judges (started at cd990a7, its result unread)")

#: The adaptive rule's thresholds run beside 0.01 on the converged setup (issue 19, item 3).
CONVERGENCE_SWEEP = (0.001, 0.003, 0.01, 0.03)
CONVERGENCE = Rule(
    "convergence", "adaptive depth run as the paper writes it ({net})", "5 layers, no significant accuracy change",
    "the adaptive rule checks the criterion after every epoch and removes the last layer while it is below 0.01; "
    "training stops when the validation loss has not improved for {patience} epochs (at most {max_epochs}); the "
    "verdict is the adaptive rule's on that run, inconclusive where its depth is still censored; beside it the "
    f"threshold sweep ({', '.join(map(str, CONVERGENCE_SWEEP))}) and the from-scratch net at the final depth",
    {"patience": 3, "max_epochs": 60},
    written="2026-12-02 (session 8, issue 19 item 3), before any run to convergence")
#: Issue 19, items 1-3, fixed before any of their runs: the regimes every paper claim is to be judged in,
#: with their seeds, and the clauses of the controls that can meet a test. Written 2026-12-02 (session
#: 8); no run has judged them yet (the report lists them as written).
REGIMES = {
    "chosen": "the validation-best regime of notebook 00 (resdyn.experiment.REGIME): standardized inputs, weights "
              "N(0, 0.1^2 / N), bias -4, Adam 1e-3 with cosine decay, 10 epochs",
    "paper_like": "the closest reading of the paper: inputs in [0, 1], weights N(0, s^2 / N) with s from (0.1, 1.0) "
                  "and Adam's constant learning rate from (1e-3, 3e-4), both chosen on validation accuracy (seed 0, "
                  "separate weights), bias 0, trained until the validation loss has not improved for "
                  f"{CONVERGENCE.thresholds['patience']} epochs (at most {CONVERGENCE.thresholds['max_epochs']})",
    "baseline": "PyTorch's defaults: nn.Linear's uniform initialization, inputs in [0, 1], Adam 1e-3 constant, "
                "10 epochs",
}
def in_order(keys, order) -> list:
    """``keys`` (any iterable, e.g. a dict) in the order of ``order``, then any others as they come: a
    record read back from JSON has its keys sorted, a table or figure shows them in the package's order."""
    keys = list(keys)
    return [k for k in order if k in keys] + [k for k in keys if k not in order]


def in_regime_order(d) -> list[str]:
    """The keys of ``d`` in the order of :data:`REGIMES`, then any others (:func:`in_order`)."""
    return in_order(d, REGIMES)


#: Seeds per regime (issue 19, item 1: five for the chosen and paper-like regimes, at least three for the baseline).
REGIME_SEEDS = {"chosen": 5, "paper_like": 5, "baseline": 3}
SHUFFLED_CONTROL = Rule(
    "shuffled_control", "settling without class information ({net})", "not in the paper",
    "the settling rules (relative and absolute scale) gain a control that can settle: the same net, regime and "
    "seed trained on shuffled training labels (one fixed permutation per seed); a settling verdict that would hold "
    "is no evidence if that control also settles by layer {by_layer} on the same scale",
    {"by_layer": PAPER["settling_layer"] + 1},
    written="2026-12-02 (session 8, issue 19 item 2), before any net was trained on shuffled labels")
MLP_CONTROL = Rule(
    "mlp_control", "class information in the transient or only accumulated ({net})", "not in the paper",
    "Fig. 1C and 1D gain a trained non-residual control of the same width, depth, regime and seed, x(t+1) = "
    "sigmoid(W(t) x(t) + b(t)) read out from x(T): a distance or t-SNE verdict that would hold is no evidence if "
    "the control beats the raw input and the untrained net by the same margins ({distance_margin} in the "
    "within/between ratio, {silhouette_margin} in silhouette); the within/between ratio is reported layer by layer "
    "for the residual net and the control",
    {"distance_margin": DISTANCE.thresholds["margin"], "silhouette_margin": TSNE.thresholds["silhouette_margin"]},
    written="2026-12-02 (session 8, issue 19 item 2), before any non-residual net was trained")

_SESSION_9 = "2026-12-02 (session 9, issue 19 item 5), before any intervention was run"
INTERVENTION = Rule(
    "intervention", "settling goes with {factor}, by intervention ({net}, {regime} regime)", "not in the paper",
    "in each regime and seed whose trained net settles (the relative rule of Fig. 1B), the deep layers (from layer "
    "{from_layer} on) are changed after training, one factor at a time, and the settling layer is measured again on "
    "the same samples: saturation is undone by centring each deep unit's pre-activation over the analysis samples "
    "(b <- b - mean z, layer by layer, weights kept), the weights by rescaling each deep W to layer 1's Frobenius "
    "norm (biases kept; separate weights only: shared weights have ratio 1); settling goes with a factor in a seed "
    "if undoing it delays settling by at least {margin} layers or removes it; holds if in every such seed, partly "
    "if in some, does not if in none; inconclusive if no seed's trained net settles. Halving the deep weights "
    "(biases kept) is measured beside them and judges nothing",
    {"from_layer": PAPER["settling_layer"] + 1, "margin": 2},
    written=_SESSION_9)
#: The factors :data:`INTERVENTION` judges: factor -> the intervention that undoes it.
INTERVENTION_UNDO = {"saturation": "centred", "weights": "layer1_norm"}

SEEDS = Rule(
    "seeds", "{claim}, over the seeds", "as the claim's",
    "inconclusive if any seed's verdict is (its measurement cannot decide, e.g. a censored depth); else the "
    "verdict every seed gives, unless a number the claim's rule compares with a threshold has a seed interval "
    "(95 % t-interval over the seeds where it is defined) that contains that threshold: then borderline (for a "
    "layer or a depth, a whole number, the boundary lies {half} layer past the rule's last accepted one); "
    "inconclusive if the seeds give different verdicts and no interval contains its threshold",
    {"half": 0.5},
    written="2026-12-02 (session 8, issue 19 item 4), after the seeds record of session 6 had been read, before "
            "the seeds target's re-run, the first run it judges")

#: The rules whose thresholds are part of the experiment spec (changing one makes every section
#: stale): the paper's claims as first judged. Rules added later give verdicts too (stored in
#: results.json, recomputed at every run) but sit outside the spec, so that adding one does not
#: discard the record ...
VERDICT_RULES = (ERROR, MEAN_SETTLING, STD_SETTLING, DISTANCE, TSNE, ADAPTIVE, TOY)
#: ... and every rule, the study's two decision rules included (the report lists them all).
RULES = (*VERDICT_RULES, ABSOLUTE_SETTLING, SEEDS, CONVERGENCE, SHUFFLED_CONTROL, MLP_CONTROL, INTERVENTION, ASSOCIATION, REGIME_DECISION, *STUDY_1D_RULES)
assert MEAN_SETTLING.thresholds["fraction"] == STD_SETTLING.thresholds["fraction"]
#: The settling rules' fraction of the peak (both rules share it).
SETTLING_FRACTION = STD_SETTLING.thresholds["fraction"]
#: The latest settling layer the settling rules accept (the paper's layer 6, plus one).
SETTLING_BY_LAYER = STD_SETTLING.thresholds["by_layer"]
#: The longer version's toy result, per kind of weights.
TOY_PAPER = {"shared": "5 layers, 100 % accuracy", "separate": "keeps all 15 layers"}


# ----------------------------------------------------------------------------------------------


def _points(fraction: float) -> float:
    """A fraction in percentage points, without the float noise of the subtraction (1 - 0.979 is
    0.02100000000000002), so that a value on a threshold is judged as it is printed."""
    return round(100 * fraction, 6)


def error_limit(net: str) -> float:
    """The largest test error (%) for which :data:`ERROR` holds for ``net``."""
    return PAPER[f"error_{net}"] + ERROR.thresholds["holds"]


def distance_control(fig1c, net: str) -> float:
    """The better (lower) control's mean within/between ratio for ``net``: raw input or untrained net."""
    return min(fig1c.raw.mean_ratio, fig1c.untrained[net].mean_ratio)


def tsne_controls(fig1d, net: str) -> tuple:
    """The controls of ``net``'s t-SNE: the raw input's and the untrained net's separation."""
    return (fig1d.raw, fig1d.untrained[net])


def accuracy(fig1ab) -> list[Verdict]:
    """:data:`ERROR` for both nets of a :class:`resdyn.sections.fig1ab.Fig1AB`."""
    th = ERROR.thresholds
    out = []
    for net in NETS:
        paper = PAPER[f"error_{net}"]
        err = _points(1 - fig1ab.nets[net].test_acc)
        v = "holds" if err <= paper + th["holds"] else "partly" if err <= paper + th["partly"] else "does not"
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


def distance_ratio(fig1c) -> list[Verdict]:
    """:data:`DISTANCE` for both nets of a :class:`resdyn.sections.fig1c.Fig1C`, against the raw inputs and
    the untrained nets."""
    th, out = DISTANCE.thresholds, []
    for net in NETS:
        r = fig1c.trained[net].ratio
        below = sum(x < th["below"] for x in r)
        v = "holds" if below == len(r) else "partly" if 2 * below >= len(r) else "does not"
        mean = fig1c.trained[net].mean_ratio
        worst = distance_control(fig1c, net)
        if v != "does not" and mean > round(worst - th["margin"], 6):
            v = "no evidence"
        out.append(Verdict(f"distance_{net}", DISTANCE.claim.format(net=net), DISTANCE.paper,
                           f"ratio {min(r):.2f}-{max(r):.2f} (mean {mean:.2f}), below 1 for {below}/{len(r)} classes",
                           f"mean ratio: raw input {fig1c.raw.mean_ratio:.2f}, untrained "
                           f"{fig1c.untrained[net].mean_ratio:.2f}", v))
    return out


def tsne_clusters(fig1d) -> list[Verdict]:
    """:data:`TSNE` for both nets of a :class:`resdyn.sections.fig1d.Fig1D`, against the raw input and the
    untrained nets."""
    th, out = TSNE.thresholds, []
    for net in NETS:
        s = fig1d.trained[net]
        n_ok = (s.knn_accuracy >= th["knn"]) + (s.silhouette >= th["silhouette"])
        v = {2: "holds", 1: "partly", 0: "does not"}[n_ok]
        controls = tsne_controls(fig1d, net)
        beats = all(s.knn_accuracy >= round(c.knn_accuracy + th["knn_margin"], 6)
                    and s.silhouette >= round(c.silhouette + th["silhouette_margin"], 6) for c in controls)
        if v != "does not" and not beats:
            v = "no evidence"
        out.append(Verdict(f"tsne_{net}", TSNE.claim.format(net=net), TSNE.paper,
                           f"kNN acc {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}",
                           f"raw input {fig1d.raw.knn_accuracy:.3f} / {fig1d.raw.silhouette:.2f}; untrained "
                           f"{fig1d.untrained[net].knn_accuracy:.3f} / {fig1d.untrained[net].silhouette:.2f}", v))
    return out


def adaptive_depth(adaptive) -> list[Verdict]:
    """:data:`ADAPTIVE` for the shared net of a :class:`resdyn.sections.adaptive.AdaptiveDepth`; separate
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
    """:data:`TOY` for both nets of a :class:`resdyn.sections.toy.ToyCircles`. The control column gives the
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


def against(low: float | None, high: float | None, threshold: float) -> str:
    """The verdict of an interval [low, high] against a threshold: "holds" above it, "does not" below,
    "borderline" containing it, "inconclusive" without an interval (fewer than two seeds)."""
    if low is None or high is None or low != low or high != high:
        return "inconclusive"
    return "holds" if low > threshold else "does not" if high < threshold else "borderline"


#: The claims the seeds judge, in the report's order (each followed by _ and a net), with their rules.
SEED_CLAIMS = {"error": ERROR, "mean_layer": MEAN_SETTLING, "std_layer": STD_SETTLING,
               "mean_absolute": ABSOLUTE_SETTLING, "std_absolute": ABSOLUTE_SETTLING, "distance": DISTANCE,
               "tsne": TSNE, "adaptive": ADAPTIVE}
#: What the absolute-scale claims are about (:data:`ABSOLUTE_SETTLING`'s ``{what}``).
ABSOLUTE_WHAT = {"mean": "class-mean residuals stop changing", "std": "across-sample std of residuals near 0"}


def seed_thresholds(key: str) -> list[tuple[str, float]]:
    """The (headline number, threshold) pairs that claim ``key``'s rule compares: the numbers are keys
    of :data:`resdyn.sections.seeds.METRICS`; the thresholds are on the number's own scale (a layer's
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
    """:data:`SEEDS` for every claim of a :class:`resdyn.sections.seeds.SeedsSection`: "inconclusive"
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
                   INTERVENTION.claim.format(factor=factor, net=net, regime=regime), INTERVENTION.paper,
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


def verdicts(results, sections) -> list[Verdict]:
    """Every verdict the record allows, in the order of ``sections`` (the registry,
    :data:`resdyn.sections.SECTIONS`): each entry's ``verdicts`` rule applied to its record; sections
    the record lacks are skipped."""
    out = []
    for section in sections:
        record = getattr(results, section.name, None)
        if section.verdicts is not None and record is not None:
            out += section.verdicts(record)
    return out


def format_table(verdicts: list[Verdict]) -> str:
    """A plain-text table: claim key, paper, ours, controls, verdict."""
    head = ("claim", "paper", "ours", "controls", "verdict")
    rows = [(v.key, v.paper, v.ours, v.controls, v.verdict) for v in verdicts]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(head)] + [line(r) for r in rows])


def table(verdicts: list[Verdict], *, exp=None) -> str:
    """``verdicts`` as a notebook's checked cell prints them: with ``exp``, a first line says which
    run they come from."""
    text = format_table(verdicts)
    return text if exp is None else f"{exp.describe()}\n{text}"
