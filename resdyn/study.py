"""Beyond the paper's figures: why settling appears, which regimes give it, depth, precision.

The studies run under their own target (``make study``), outside CI's full run; each is a function
that returns its results.json section as a typed record, like :mod:`resdyn.paper`.

=====================  ================================  ========================  ==========
section                function                          record                    notebook
=====================  ================================  ========================  ==========
``mechanism``          :func:`mechanism_study`           :class:`MechanismStudy`   06
``regime_map``         :func:`regime_map`                :class:`RegimeMap`        07
``depth``              :func:`depth_study`               :class:`DepthStudy`       08
``precision``          :func:`precision_study`           :class:`PrecisionStudy`   10
=====================  ================================  ========================  ==========

The candidates below were fixed before any of them was trained: the paper-like regime of issue 11
(inputs in [0, 1], PyTorch's default initialization, plain Adam 1e-3) and a handful of targeted
configurations around the paper's input scaling.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .experiment import NETS, Setup
from .paper import NetDynamics, TrainedNet
from .parallel import Job
from .pruning import AdaptiveDepthConfig


@dataclass(frozen=True)
class Candidate:
    """A training regime to try: the changes from the chosen regime (``REGIME``).

    ``paper_scaled``: inputs in [0, 1] as in the paper (no standardization)."""

    key: str
    name: str
    scaling: str | None = None
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)

    @property
    def paper_scaled(self) -> bool:
        return self.scaling == "unit"


#: Issue 11, item 2: the paper-like regime at full length (the regime sweep's naive baseline,
#: trained on all samples for the chosen regime's epochs).
PAPER_LIKE = Candidate("paper_like", "paper-like: inputs [0, 1], PyTorch init, Adam 1e-3 constant", scaling="unit",
                       model={"init_scale": None, "init_bias": 0.0}, train={"schedule": "constant"})
#: Issue 11, item 3: targeted configurations (both kinds of weights each).
TARGETED = (
    Candidate("gauss_b0_unit_e20", "small Gaussian weights, bias 0, inputs [0, 1], 20 epochs", scaling="unit",
              model={"init_bias": 0.0}, train={"epochs": 20}),
    Candidate("gauss_b-2_unit", "small Gaussian weights, bias -2, inputs [0, 1]", scaling="unit",
              model={"init_bias": -2.0}),
    Candidate("gauss_b-4_unit", "chosen regime with inputs [0, 1] (bias -4)", scaling="unit"),
    Candidate("gauss_b0_unit_wd", "small Gaussian weights, bias 0, inputs [0, 1], AdamW weight decay 0.5",
              scaling="unit", model={"init_bias": 0.0}, train={"optimizer": "adamw", "weight_decay": 0.5}),
    Candidate("chosen_e20", "chosen regime, 20 epochs", train={"epochs": 20}),
)
#: Issue 11, item 5: depths of the accuracy-against-depth curve.
DEPTHS = (1, 2, 3, 5, 8, 15)
#: Issue 12, item 2(b): adaptive runs of the shared net with longer budgets, and with no limit on
#: removals per check: (label, epochs, max_removals_per_check).
ADAPTIVE_BUDGETS = (("20 epochs", 20, 1), ("30 epochs", 30, 1), ("10 epochs, unlimited removals", 10, 14))
#: Issue 10, item 2: seeds of the precision comparison.
PRECISION_SEEDS = (0, 1, 2)


def candidate_job(exp: Setup, cand: Candidate, *, shared: bool) -> Job:
    """The job that trains ``cand`` with ``exp``'s seed and precision."""
    job = exp.job(shared=shared, **cand.train)
    data = replace(job.data, scaling=cand.scaling or job.data.scaling)
    name = f"{cand.key} {'shared' if shared else 'separate'} seed {exp.seed}: "
    return replace(job, data=data, model=replace(job.model, **cand.model), name=name)


def budget_job(exp: Setup, epochs: int, max_removals: int) -> Job:
    """An adaptive run of the shared net with another epoch budget or removal limit."""
    return exp.job(shared=True, epochs=epochs,
                   adaptive=replace(exp.adaptive_config(), max_removals_per_check=max_removals))


def study_jobs(exp: Setup) -> list[Job]:
    """Every net the studies train (seed ``exp.seed``), for training them side by side up front."""
    jobs = [candidate_job(exp, c, shared=(net == "shared")) for c in (PAPER_LIKE, *TARGETED) for net in NETS]
    jobs += [exp.job(shared=(net == "shared"), depth=d) for d in DEPTHS for net in NETS]
    jobs += [budget_job(exp, epochs, removals) for _, epochs, removals in ADAPTIVE_BUDGETS]
    return jobs


def precision_jobs(exp: Setup, precision: str) -> list[Job]:
    """The nets of the precision comparison for ``exp``'s seed: both 15-layer nets and the adaptive
    shared run, in ``precision``."""
    return [exp.job(shared=False, precision=precision), exp.job(shared=True, precision=precision),
            exp.job(shared=True, adaptive=True, precision=precision)]


def unlimited_adaptive(exp: Setup) -> AdaptiveDepthConfig:
    return replace(exp.adaptive_config(), max_removals_per_check=exp.depth - 1)


# ----------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class NetPoint:
    """One trained net on the regime map: its accuracy, when it settles, and the mechanism in its
    deep layers (layers :data:`DEEP` and later, averaged): saturated fraction, sigmoid slope,
    across-sample spread of z, and the Frobenius norm of W relative to layer 1's."""

    key: str
    name: str
    shared: bool
    group: str
    val_acc: float | None
    test_acc: float | None
    std_layer: int | None
    mean_layer: int | None
    std_layer_absolute: int | None
    deep_std_ratio: float
    saturation: float
    slope: float
    z_spread: float
    weight_ratio: float


#: The deep layers the map's mechanism numbers average over: from the paper's settling layer, 7.
DEEP = 7


def net_point(key: str, name: str, shared: bool, group: str, dyn, *, val_acc: float | None,
              test_acc: float | None) -> NetPoint:
    """A :class:`NetPoint` from a net's :class:`resdyn.paper.NetDynamics`."""
    p, m = dyn.profile, dyn.mechanism
    deep = slice(DEEP - 1, None)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return NetPoint(key=key, name=name, shared=shared, group=group, val_acc=val_acc, test_acc=test_acc,
                    std_layer=p.std_layer, mean_layer=p.mean_layer, std_layer_absolute=p.sensitivity.std_layer_absolute,
                    deep_std_ratio=mean(p.std_profile[deep]) / max(p.std_profile),
                    saturation=mean(m.saturated[deep]), slope=mean(m.slope[deep]), z_spread=mean(m.z_spread[deep]),
                    weight_ratio=mean(m.weight_norm[deep]) / m.weight_norm[0])


@dataclass(frozen=True)
class Association:
    """Across the trained nets of the map: Spearman's rank correlation of a deep-layer mechanism
    quantity with ``deep_std_ratio`` (how far the across-sample std has fallen from its peak)."""

    quantity: str
    rho: float
    p_value: float
    n: int


#: Which measured quantity "goes with settling" (fixed before the study's run): the one whose
#: Spearman correlation with the deep std ratio has the expected sign (saturation: negative, the
#: more saturated the less spread; weight ratio: positive, the smaller the deep weights the less
#: spread) and is the strongest, if |rho| >= 0.5 with p < 0.05 over at least 8 nets; else "neither".
ASSOCIATION_RULE = {"saturation": -1, "weight_ratio": +1, "min_rho": 0.5, "max_p": 0.05, "min_nets": 8}


def associations(points: list[NetPoint]) -> tuple[list[Association], str]:
    """The :class:`Association` of each quantity of :data:`ASSOCIATION_RULE`, and the verdict of the rule."""
    from scipy.stats import spearmanr

    trained = [p for p in points if p.group != "untrained"]
    out = []
    for q in ("saturation", "weight_ratio"):
        xs, ys = [getattr(p, q) for p in trained], [p.deep_std_ratio for p in trained]
        res = spearmanr(xs, ys) if len(set(xs)) > 1 else None
        out.append(Association(q, float(res.statistic) if res else 0.0, float(res.pvalue) if res else 1.0, len(trained)))
    r = ASSOCIATION_RULE
    ok = [a for a in out if a.n >= r["min_nets"] and a.p_value < r["max_p"] and a.rho * r[a.quantity] >= r["min_rho"]]
    return out, max(ok, key=lambda a: abs(a.rho)).quantity if ok else "neither"


@dataclass(frozen=True)
class MechanismStudy:
    """Section ``mechanism``: the paper-like regime at full length (both kinds of weights), and for
    every trained net of the paper run (chosen regime, its untrained twins, the baseline, every
    sweep variant) and the paper-like nets: when it settles and what its deep units do.

    dynamics: per-layer statistics of the main nets ("<group>/<weights>"); points: every net;
    associations, goes_with_settling: :func:`associations`."""

    paper_like: dict[str, TrainedNet]
    dynamics: dict[str, NetDynamics]
    points: list[NetPoint]
    associations: list[Association]
    goes_with_settling: str


def _analysis(exp: Setup, scaling: str | None):
    from .data import balanced_subset

    return balanced_subset(exp.dataset(scaling or exp.regime.scaling).test, exp.n_per_class, seed=exp.seed)


def mechanism_study(exp: Setup) -> MechanismStudy:
    """Train (or load) the paper-like regime's nets; measure settling and mechanism of every net."""
    from . import paper
    from .experiment import paper_jobs, regime_variants

    variants = regime_variants()
    n_train, epochs = exp.sweep_budget
    sweep = exp.train(*paper_jobs(exp)[: len(variants)])
    chosen = paper.trained_nets(exp)
    like = dict(zip(NETS, exp.train(*(candidate_job(exp, PAPER_LIKE, shared=(n == "shared")) for n in NETS))))
    dynamics, points = {}, []

    def add(key, name, shared, group, model, scaling, val_acc, test_acc, keep):
        _, dyn = paper.net_dynamics(model, _analysis(exp, scaling))
        if keep:
            dynamics[f"{group}/{'shared' if shared else 'separate'}"] = dyn
        points.append(net_point(key, name, shared, group, dyn, val_acc=val_acc, test_acc=test_acc))

    for net in NETS:
        shared = net == "shared"
        add("chosen", "chosen regime", shared, "chosen", chosen[net].model, None, chosen[net].val_acc,
            chosen[net].test_acc, True)
        add("untrained", "untrained (chosen regime's init)", shared, "untrained", paper.untrained_net(exp, net), None,
            None, None, True)
        add(PAPER_LIKE.key, PAPER_LIKE.name, shared, "paper_like", like[net].model, PAPER_LIKE.scaling,
            like[net].val_acc, like[net].test_acc, True)
    for v, r in zip(variants, sweep):
        group = "baseline" if v.key == "baseline" else "sweep"
        add(v.key, v.name, v.shared, group, r.model, v.scaling, r.val_acc, None, group == "baseline")
    assoc, verdict = associations(points)
    return MechanismStudy(paper_like={n: paper.TrainedNet.of(like[n]) for n in NETS}, dynamics=dynamics,
                          points=points, associations=assoc, goes_with_settling=verdict)


@dataclass(frozen=True)
class CandidateResult:
    """One targeted configuration with one kind of weights: its settings, the trained net and where
    it sits on the map."""

    key: str
    name: str
    shared: bool
    paper_scaled: bool
    settings: dict
    net: TrainedNet
    point: NetPoint


@dataclass(frozen=True)
class RegimeDecision:
    """Which regime the paper notebooks run in, by :data:`DECISION_RULE` (validation accuracy only)."""

    rule: str
    today: dict[str, float]
    best_paper_scaled: str
    best: dict[str, float]
    switch: bool


#: Issue 11, item 4, fixed before the study's run: the paper notebooks move to the best paper-scaled
#: candidate (inputs in [0, 1]; best by mean validation accuracy over both kinds of weights) if, for
#: both kinds of weights, its validation accuracy is at most 0.1 points below today's regime's;
#: otherwise they keep today's regime and the study shows the candidates beside it. Settling plays
#: no part in the decision.
DECISION_RULE = ("the best paper-scaled candidate (inputs in [0, 1]) replaces today's regime if its validation "
                 "accuracy is at most {tolerance} points below today's for both kinds of weights; settling plays no part")
DECISION_TOLERANCE = 0.1


@dataclass(frozen=True)
class RegimeMap:
    """Section ``regime_map``: the targeted configurations, every trained net on the map (test accuracy
    against settling, with its deep-layer saturation), the nets that meet both claims at once
    (``both``: "<key>/<weights>" with test error within 0.3 points of the paper's and a Fig. 1B
    settling layer of 7 or earlier), and the regime decision."""

    candidates: list[CandidateResult]
    points: list[NetPoint]
    both: list[str]
    decision: RegimeDecision

    def frame(self):
        """The targeted candidates as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([{"candidate": c.name, "shared": c.shared, "val_acc": c.net.val_acc, "test_acc": c.net.test_acc,
                              "std settles": c.point.std_layer, "means settle": c.point.mean_layer,
                              "saturated": c.point.saturation} for c in self.candidates])


def regime_map(exp: Setup, mechanism: MechanismStudy) -> RegimeMap:
    """Train (or load) the targeted configurations, put them on the map with ``mechanism``'s nets,
    and decide the regime on the validation split."""
    from . import paper
    from .claims import ERROR, PAPER

    jobs = [candidate_job(exp, c, shared=(n == "shared")) for c in TARGETED for n in NETS]
    results = exp.train(*jobs)
    cands = []
    for (c, n), r in zip(((c, n) for c in TARGETED for n in NETS), results):
        _, dyn = paper.net_dynamics(r.model, _analysis(exp, c.scaling))
        point = net_point(c.key, c.name, n == "shared", "targeted", dyn, val_acc=r.val_acc, test_acc=r.test_acc)
        settings = {**exp.regime.settings(), **c.model, **r.config.to_dict(), "scaling": c.scaling or exp.regime.scaling}
        cands.append(CandidateResult(c.key, c.name, n == "shared", c.paper_scaled, settings, paper.TrainedNet.of(r), point))
    points = mechanism.points + [c.point for c in cands]
    limit = {n: PAPER[f"error_{n}"] + ERROR.thresholds["holds"] for n in NETS}
    both = [f"{p.key}/{'shared' if p.shared else 'separate'}" for p in points if p.test_acc is not None
            and 100 * (1 - p.test_acc) <= limit["shared" if p.shared else "separate"] + 1e-9
            and p.std_layer is not None and p.std_layer <= PAPER["settling_layer"] + 1]
    return RegimeMap(candidates=cands, points=points, both=both, decision=decide(exp, mechanism, cands))


def decide(exp: Setup, mechanism: MechanismStudy, cands: list[CandidateResult]) -> RegimeDecision:
    """:data:`DECISION_RULE` on validation accuracy."""
    today = {("shared" if p.shared else "separate"): p.val_acc for p in mechanism.points if p.group == "chosen"}
    scaled: dict[str, dict[str, float]] = {}
    for c in cands:
        if c.paper_scaled:
            scaled.setdefault(c.key, {})["shared" if c.shared else "separate"] = c.net.val_acc
    for p in mechanism.points:
        if p.group == "paper_like":
            scaled.setdefault(p.key, {})["shared" if p.shared else "separate"] = p.val_acc
    best = max(scaled, key=lambda k: sum(scaled[k].values()))
    switch = all(100 * (scaled[best][n] - today[n]) >= -DECISION_TOLERANCE for n in NETS)
    return RegimeDecision(rule=DECISION_RULE.format(tolerance=DECISION_TOLERANCE), today=today,
                          best_paper_scaled=best, best=scaled[best], switch=switch)


# ----------------------------------------------------------------------------------------------
# 08: depth


def training_multiply_adds(result, model_config, n_train: int, probe_size: int = 0) -> int:
    """Multiply-adds of a whole training run (:meth:`ModelConfig.multiply_adds` per sample, at the
    depth each epoch trained at), plus the adaptive checks' forward passes over ``probe_size`` samples."""
    depth, total = model_config.depth, 0
    checks = probe_size * (len(result.history) + 1) if result.adaptive is not None else 0
    for r in result.history:
        total += replace(model_config, depth=depth).multiply_adds(n_train)
        depth = r.depth
    return total + (replace(model_config, depth=max(depth, 1)).multiply_adds(checks, training=False) if checks else 0)


@dataclass(frozen=True)
class DepthRow:
    """A net of the chosen regime trained from scratch at ``depth``."""

    depth: int
    shared: bool
    val_acc: float
    test_acc: float
    train_seconds: float
    multiply_adds: int


@dataclass(frozen=True)
class ComputeRow:
    """One way to arrive at a net of the adaptive run's final depth (shared weights): its training
    cost in multiply-adds and wall seconds, and the test accuracy of the net it ends with."""

    method: str
    depth: int
    multiply_adds: int
    seconds: float
    test_acc: float


@dataclass(frozen=True)
class BudgetRow:
    """An adaptive run of the shared net with an epoch budget and removal limit."""

    label: str
    epochs: int
    max_removals: int
    final_depth: int
    censored: bool
    always_below: bool
    test_acc: float
    depths: list[int]
    criteria: list[float]


@dataclass(frozen=True)
class DepthStudy:
    """Section ``depth``: accuracy against depth (both kinds of weights, from scratch), the adaptive
    runs on that curve, the compute of three ways to a net of the adaptive depth, and adaptive runs
    with longer budgets. ``levels_off``: the depth where the longer budgets agree, uncensored (None:
    they do not)."""

    curve: list[DepthRow]
    adaptive: dict[str, DepthRow]
    compute: list[ComputeRow]
    budgets: list[BudgetRow]
    levels_off: int | None


def depth_study(exp: Setup) -> DepthStudy:
    """Train (or load) the depth curve and the adaptive budgets; compare the compute of the adaptive
    run with the final depth from scratch and with growing from shallow (train shallower nets fully
    first, then deeper ones, up to the final depth)."""
    from .paper import adaptive_net

    n = len(exp.data.train)
    curve_jobs = [exp.job(shared=(net == "shared"), depth=d) for d in DEPTHS for net in NETS]
    curve_results = exp.train(*curve_jobs)
    curve = [DepthRow(j.model.depth, j.model.shared_weights, r.val_acc, r.test_acc, r.seconds,
                      training_multiply_adds(r, j.model, n)) for j, r in zip(curve_jobs, curve_results)]
    ad_jobs = [exp.job(shared=(net == "shared"), adaptive=True) for net in NETS]
    ad = dict(zip(NETS, exp.train(*ad_jobs)))
    adaptive = {net: DepthRow(ad[net].model.depth, net == "shared", ad[net].val_acc, ad[net].test_acc, ad[net].seconds,
                              training_multiply_adds(ad[net], j.model, n, exp.probe_size))
                for net, j in zip(NETS, ad_jobs)}
    final = adaptive["shared"].depth
    scratch_job = exp.job(shared=True, depth=final)
    scratch = exp.train(scratch_job)[0]
    shallow = [row for row in curve if row.shared and row.depth <= final]
    if not any(row.depth >= final for row in shallow):
        shallow.append(DepthRow(final, True, scratch.val_acc, scratch.test_acc, scratch.seconds,
                                training_multiply_adds(scratch, scratch_job.model, n)))
    compute = [
        ComputeRow("adaptive depth from 15 layers", final, adaptive["shared"].multiply_adds, adaptive["shared"].train_seconds,
                   adaptive["shared"].test_acc),
        ComputeRow(f"{final} layers from scratch", final, training_multiply_adds(scratch, scratch_job.model, n),
                   scratch.seconds, scratch.test_acc),
        ComputeRow(f"growing from shallow ({', '.join(str(r.depth) for r in shallow)} layers)", final,
                   sum(r.multiply_adds for r in shallow), sum(r.train_seconds for r in shallow), shallow[-1].test_acc),
    ]
    full = exp.train(exp.job(shared=True))[0]
    budgets = []
    for label, epochs, removals in (("10 epochs (the paper run)", exp.train_config.epochs, 1), *ADAPTIVE_BUDGETS):
        r = exp.train(budget_job(exp, epochs, removals))[0]
        a = adaptive_net(r, full, exp.threshold, exp.adaptive_config().min_depth)
        budgets.append(BudgetRow(label, epochs, removals, a.final_depth, a.censored, a.always_below, a.test_acc,
                                 [h.depth for h in r.history], [h.criterion for h in r.history]))
    longer = [b for b in budgets if b.max_removals == 1 and b.epochs > exp.train_config.epochs]
    levels = {b.final_depth for b in longer}
    levels_off = levels.pop() if len(levels) == 1 and not any(b.censored for b in longer) else None
    return DepthStudy(curve=curve, adaptive=adaptive, compute=compute, budgets=budgets, levels_off=levels_off)


# ----------------------------------------------------------------------------------------------
# 10: precision


@dataclass(frozen=True)
class PrecisionRun:
    """One seed in one precision: the headline numbers it gives and its verdicts."""

    seed: int
    precision: str
    numbers: dict[str, float | None]
    verdicts: dict[str, str]
    epoch_seconds: dict[str, float]


@dataclass(frozen=True)
class PrecisionRow:
    """One number in fp32 and bf16: means over seeds, their difference, and the seed spread (range
    over seeds, the larger of the two precisions'). ``within``: |difference| <= spread."""

    metric: str
    fp32: float | None
    bf16: float | None
    difference: float | None
    spread: float | None
    within: bool


@dataclass(frozen=True)
class PrecisionStudy:
    """Section ``precision``: the chosen regime's two 15-layer nets and the adaptive shared run in fp32
    and bf16 for several seeds; ``moved``: "seed <s>: <claim> <fp32> -> <bf16>" for every verdict that
    differs; ``bf16_ok``: no verdict moved and every number within the seed spread (the condition for
    bf16 to be the default where the processor runs it natively)."""

    seeds: list[int]
    runs: list[PrecisionRun]
    rows: list[PrecisionRow]
    moved: list[str]
    bf16_ok: bool


#: The numbers the precision comparison reports (see resdyn.seeds.METRICS), plus the adaptive
#: criterion after every epoch ("criterion_<epoch>").
PRECISION_METRICS = ("error_separate", "error_shared", "mean_layer_separate", "mean_layer_shared", "std_layer_separate",
                     "std_layer_shared", "distance_ratio_separate", "distance_ratio_shared", "knn_separate",
                     "knn_shared", "silhouette_separate", "silhouette_shared", "adaptive_depth_shared",
                     "adaptive_change_shared")


def precision_run(exp: Setup, precision: str) -> PrecisionRun:
    """The numbers and verdicts of ``exp``'s seed with training in ``precision``."""
    from types import SimpleNamespace

    from . import claims, paper
    from .seeds import figure_numbers

    exp = replace(exp, train_config=replace(exp.train_config, precision=precision))
    s = {"fig1ab": paper.fig1ab(exp), "fig1c": paper.fig1c(exp), "fig1d": paper.fig1d(exp)}
    full, ad = paper.trained_nets(exp)["shared"], exp.train(exp.job(shared=True, adaptive=True))[0]
    a = paper.adaptive_net(ad, full, exp.threshold, exp.adaptive_config().min_depth)
    numbers = {k: v for k, v in figure_numbers(**s).items() if k in PRECISION_METRICS}
    numbers["adaptive_depth_shared"] = a.final_depth
    numbers["adaptive_change_shared"] = 100 * (a.test_acc - a.full_test_acc)
    numbers.update({f"criterion_{h['epoch']}": h["criterion"] for h in a.history})
    verdicts = {v.key: v.verdict for v in claims.verdicts(SimpleNamespace(**s))}
    seconds = {n: sum(s["fig1ab"].nets[n].epoch_seconds) / s["fig1ab"].nets[n].epochs for n in NETS}
    return PrecisionRun(seed=exp.seed, precision=precision, numbers=numbers, verdicts=verdicts, epoch_seconds=seconds)


def compare_precisions(runs: list[PrecisionRun]) -> tuple[list[PrecisionRow], list[str]]:
    """Rows of :class:`PrecisionRow` and the verdicts that move between fp32 and bf16."""
    by = {(r.seed, r.precision): r for r in runs}
    seeds = sorted({r.seed for r in runs})
    rows = []
    for m in runs[0].numbers:
        vals = {p: [by[s, p].numbers.get(m) for s in seeds] for p in ("fp32", "bf16")}
        if any(v is None for vs in vals.values() for v in vs):  # e.g. never settles: equal per seed or not
            same = vals["fp32"] == vals["bf16"]
            rows.append(PrecisionRow(m, None, None, None, None, same))
            continue
        mean = {p: sum(v) / len(v) for p, v in vals.items()}
        spread = max(max(v) - min(v) for v in vals.values())
        diff = mean["bf16"] - mean["fp32"]
        rows.append(PrecisionRow(m, mean["fp32"], mean["bf16"], diff, spread, abs(diff) <= spread + 1e-12))
    moved = [f"seed {s}: {k} {by[s, 'fp32'].verdicts[k]} -> {by[s, 'bf16'].verdicts[k]}" for s in seeds
             for k in by[s, "fp32"].verdicts if by[s, "fp32"].verdicts[k] != by[s, "bf16"].verdicts[k]]
    return rows, moved


def precision_study(exp: Setup, seeds=PRECISION_SEEDS) -> PrecisionStudy:
    """fp32 against bf16 for ``seeds`` (every net trained or read from the cache)."""
    from .experiment import setup

    runs = []
    for s in seeds:
        e = setup(quick=exp.quick, seed=s, data_root=exp.data_root, verbose=False)
        e.train(*precision_jobs(e, "fp32"), *precision_jobs(e, "bf16"))
        runs += [precision_run(e, "fp32"), precision_run(e, "bf16")]
    rows, moved = compare_precisions(runs)
    return PrecisionStudy(seeds=list(seeds), runs=runs, rows=rows, moved=moved,
                          bf16_ok=not moved and all(r.within for r in rows))
