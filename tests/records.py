"""A complete results record (every section of results.json) with made-up numbers, for the tests of
claims, report, CLI and the schema. ``complete_record(...)`` takes overrides per section."""
from dataclasses import replace
from itertools import accumulate

from resdyn.core import claims
from resdyn.studies import sections
from resdyn.core.claims import NETS
from resdyn.run.results import Results, RunInfo
from resdyn.studies.sections.adaptive import AdaptiveDepth, AdaptiveNet, CriterionProfile, LesionRow, Scratch
from resdyn.studies.sections.common import TrainedNet
from resdyn.studies.sections.fig1ab import (BaselineNet, Fig1AB, LayerMechanism, NetDynamics, ResidualProfile,
                                            Sensitivity)
from resdyn.studies.sections.fig1c import DistanceSummary, Fig1C
from resdyn.studies.sections.fig1d import Fig1D, Separation
from resdyn.studies.sections.regime import RegimeSweep, Stage2, SweepRow


def history(epochs=3, depth=15, criterion=0.02):
    return [{"epoch": e, "depth": depth, "loss": 0.1 / e, "train_acc": 0.97, "val_acc": 0.98, "seconds": 10.0,
             "lr": 1e-3, "criterion": criterion, "val_acc_unpruned": None} for e in range(1, epochs + 1)]


def sweep_row(key, name, shared=False, acc=0.95):
    return SweepRow(key=key, name=name, shared=shared, scaling="standard", init_scale=0.1, init_bias=-4.0,
                    optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, val_acc=acc, train_loss=0.2,
                    seconds=6.0)


def regime():
    return RegimeSweep(
        n_train=20000, epochs=1,
        chosen={"scaling": "standard", "init_scale": 0.1, "init_bias": -4.0, "optimizer": "adam", "lr": 0.001,
                "schedule": "cosine", "batch_size": 128, "epochs": 10},
        table=[sweep_row("chosen", "chosen regime", acc=0.94), sweep_row("baseline", "baseline", acc=0.86),
               sweep_row("lr_3e-3", "lr 3e-3", acc=0.955), sweep_row("chosen", "chosen regime", shared=True)],
        best="lr_3e-3", chosen_rank=2, chosen_acc=0.94, baseline_acc=0.86,
        stage2=Stage2(epochs=10, runner_up="lr_3e-3", val_acc={"chosen": 0.9858, "lr_3e-3": 0.9855},
                      seconds={"chosen": 170.0, "lr_3e-3": 185.0}))


def trained_net(acc=0.98):
    return TrainedNet(test_acc=acc, val_acc=acc + 0.001, precision="bf16", train_seconds=100.0, epochs=3,
                      history=history())


def profile(std_layer=None, mean_layer=None, T=15):
    return ResidualProfile(
        std_profile=[0.1] * T, change_profile=[0.01] * (T - 1), std_layer=std_layer, mean_layer=mean_layer,
        std_peak_layer=1, sensitivity=Sensitivity(fractions=[0.01, 0.05], std_layer=[None, std_layer],
                                                  mean_layer=[None, mean_layer], absolute=0.01,
                                                  std_layer_absolute=3, mean_layer_absolute=None))


def mechanism(T=15):
    return LayerMechanism(saturated=[0.1] * T, slope=[0.2] * T, z_spread=[1.0] * T, z_offset=[2.0] * T,
                          weight_norm=[3.0] * T, bias_mean=[-4.0] * T)


def dynamics(std_layer=None, mean_layer=None):
    return NetDynamics(profile=profile(std_layer, mean_layer), mechanism=mechanism())


def fig1ab(acc=None, std_layer=None, mean_layer=None, untrained_std=None, untrained_mean=None):
    acc = acc or {"separate": 0.982, "shared": 0.9861}
    std_layer = std_layer or {"separate": 4, "shared": None}
    mean_layer = mean_layer or {"separate": 6, "shared": 12}
    untrained_std = untrained_std or {"separate": None, "shared": None}
    untrained_mean = untrained_mean or {"separate": None, "shared": None}
    return Fig1AB(
        depth=15, epochs=10, n_per_class=200, seed=0, nets={n: trained_net(acc[n]) for n in NETS},
        trained={n: dynamics(std_layer[n], mean_layer[n]) for n in NETS},
        untrained={n: dynamics(untrained_std[n], untrained_mean[n]) for n in NETS}, input_std=0.95,
        baseline={n: BaselineNet(val_acc=0.86, dynamics=dynamics(6, None)) for n in NETS})


def distances(ratio):
    ratio = ratio if isinstance(ratio, list) else [ratio] * 10
    return DistanceSummary(ratio=ratio, within=[1.0] * 10, between=[2.0] * 10, class_mean=[[1.0] * 10] * 10)


def fig1c(ratio_sep=0.5, control=0.9):
    return Fig1C(classes=list(range(10)), n_samples=2000, trajectory_length=11760,
                 trained={"separate": distances(ratio_sep), "shared": distances([0.7] * 5 + [1.1] * 5)},
                 untrained={n: distances(control) for n in NETS}, raw=distances(control))


def fig1d(trained=None, control=None):
    trained = trained or {"separate": Separation(0.95, 0.4, 10), "shared": Separation(0.95, 0.1, 10)}
    control = control or Separation(0.8, 0.2, 10)
    return Fig1D(perplexity=30.0, seed=0, trained=trained, residual_sum={n: Separation(0.9, 0.3, 10) for n in NETS},
                 untrained={n: control for n in NETS}, raw=control, seconds=20.0)


def adaptive_net(final_depth=5, test_acc=0.98, full_test_acc=0.982, censored=False, always_below=False):
    return AdaptiveNet(initial_depth=15, final_depth=final_depth, test_acc=test_acc, val_acc=test_acc,
                       full_test_acc=full_test_acc, train_seconds=100.0, full_train_seconds=150.0, epochs=3,
                       initial_criterion=0.005, always_below=always_below, censored=censored, history=history(),
                       pruning=[])


def adaptive(final_depth=5, **kw):
    return AdaptiveDepth(threshold=0.01, probe_size=1000, seed=0,
                         nets={n: adaptive_net(final_depth, **kw) for n in NETS},
                         profiles={n: CriterionProfile(criterion=[0.02] * 14, stop_depth=15) for n in NETS},
                         scratch=Scratch(depth=5, test_acc=0.9836, val_acc=0.984, train_seconds=50.0),
                         lesion=[LesionRow(depth=d, val_acc=0.9, val_acc_folded=0.95) for d in range(1, 16)])


def run_info(mode="full", spec="5bec"):
    return RunInfo(identity={"mode": mode, "dataset": "mnist", "seed": 0, "code": "abc", "commit": "0123", "spec": spec,
                             "precision": "bf16"},
                   notebook_seconds={"00_training_regime": 100.0}, wall_seconds=100.0, versions={"torch": "2.14.1"},
                   machine="test machine", torch_threads=1, workers=2, notebooks_run=["00_training_regime"],
                   peak_rss_mb=1000.0)


#: The claim keys a seed run judges (the paper notebooks' verdicts).
SEED_CLAIMS = [f"{c}_{n}" for c in claims.SEED_CLAIMS for n in ("separate", "shared")]


def seeds(numbers=None, verdicts=None, n=3):
    """A seeds section of ``n`` seeds: ``numbers`` (metric -> list per seed) and ``verdicts`` (claim ->
    list per seed) override the defaults (number = the seed; verdict "holds", n/a for adaptive_separate)."""
    from resdyn.studies.sections.seeds import METRICS, SeedRun, summarize

    numbers, verdicts = numbers or {}, verdicts or {}
    default = {k: ["n/a" if k == "adaptive_separate" else "holds"] * n for k in SEED_CLAIMS}
    default["error_separate"] = ["partly"] + ["holds"] * (n - 1)
    default["tsne_shared"] = ["no evidence"] * n
    default |= verdicts
    runs = [SeedRun(seed=s, numbers={m: numbers[m][s] if m in numbers else (None if "layer" in m and s == 0 else float(s))
                                     for m in METRICS},
                    verdicts={k: default[k][s] for k in SEED_CLAIMS}) for s in range(n)]
    return summarize(runs, wall_seconds=60.0)


def point(key="chosen", shared=False, group="chosen", std_layer=None, saturation=0.1, ratio=0.8, test_acc=0.985):
    from resdyn.studies.sections.mechanism import NetPoint

    return NetPoint(key=key, name=key, shared=shared, group=group, val_acc=0.98, test_acc=test_acc, std_layer=std_layer,
                    mean_layer=None, std_layer_absolute=3, deep_std_ratio=ratio, saturation=saturation, slope=0.1,
                    z_spread=1.0, weight_ratio=1.0)


def mechanism_study():
    from resdyn.studies.sections.mechanism import Association, MechanismStudy

    points = [point(f"v{i}", i % 2 == 1, "sweep", std_layer=6 if i < 4 else None, saturation=0.9 - 0.1 * i,
                    ratio=0.1 * i, test_acc=None) for i in range(9)]
    return MechanismStudy(paper_like={n: trained_net(0.95) for n in NETS}, dynamics={"chosen/separate": dynamics()},
                          points=points, associations=[Association("saturation", -0.9, 0.001, 9),
                                                       Association("weight_ratio", 0.1, 0.8, 9)],
                          goes_with_settling="saturation")


def regime_map():
    from resdyn.studies.sections.regime_map import CandidateResult, RegimeDecision, RegimeMap

    cands = [CandidateResult("gauss_b0_unit_e20", "gauss", n == "shared", True, {"epochs": 20}, trained_net(0.97),
                             point("gauss_b0_unit_e20", n == "shared", "targeted")) for n in NETS]
    return RegimeMap(candidates=cands, points=mechanism_study().points + [c.point for c in cands], both=[],
                     decision=RegimeDecision(rule="r", today={"separate": 0.985, "shared": 0.984},
                                             best_paper_scaled="gauss_b0_unit_e20",
                                             best={"separate": 0.97, "shared": 0.97}, switch=False))


def depth():
    from resdyn.studies.sections.depth import BudgetRow, ComputeRow, DepthRow, DepthStudy

    curve = [DepthRow(d, n == "shared", 0.98, 0.98, 10.0 * d, 10 ** 12 * d) for d in (1, 5, 15) for n in NETS]
    return DepthStudy(curve=curve, adaptive={n: DepthRow(5, n == "shared", 0.98, 0.98, 50.0, 5 * 10 ** 12) for n in NETS},
                      compute=[ComputeRow("adaptive", 5, 5 * 10 ** 12, 50.0, 0.98)],
                      budgets=[BudgetRow("20 epochs", 20, 1, 2, True, True, 0.97, [14, 13], [0.005, 0.004])],
                      levels_off=None)


def toy():
    from resdyn.studies.sections.toy import SETUP, ToyCircles, ToyNet

    net = ToyNet(initial_depth=15, final_depth=5, test_acc=1.0, val_acc=1.0, initial_criterion=1e-4, depth=[14, 13],
                 criterion=[0.005, 0.02], val_acc_history=[0.5, 1.0], always_below=False, censored=False,
                 train_seconds=1.0)
    return ToyCircles(setup=SETUP.to_dict(), nets={n: net for n in NETS}, seconds=2.0)


def precision():
    from resdyn.studies.sections.precision import PrecisionRow, PrecisionRun, PrecisionStudy

    runs = [PrecisionRun(seed=s, precision=p, numbers={"error_separate": 1.5}, verdicts={"error_separate": "holds"},
                         epoch_seconds={n: 10.0 for n in NETS}) for s in (0, 1) for p in ("fp32", "bf16")]
    return PrecisionStudy(seeds=[0, 1], runs=runs, rows=[PrecisionRow("error_separate", 1.5, 1.5, 0.0, 0.1, True)],
                          moved=[], bf16_ok=True)


def traced_model(kind="DenseResNet", stages=(15,), worst=1):
    from resdyn.studies.sections.trace import CRITERIA, LesionRow, TracedModel

    T = sum(stages)
    change = [0.01] * (T - 1)
    for b in list(accumulate(stages))[:-1]:
        change[b - 1] = None  # across a transition
    return TracedModel(kind=kind, parameters=1000, depth=T, names=[f"blocks.{t}" for t in range(T)],
                       stages=list(stages), shapes=[[64]] * len(stages), accuracy=0.95, std_profile=[0.1] * T,
                       change_profile=change, std_layer=4, mean_layer=None, ratio=[0.5] * 10,
                       criteria={k: [None] + [0.2] * (T - 1) for k in CRITERIA},
                       lesion=[LesionRow(t, f"blocks.{t - 1}", 0.5 if t == worst else 0.9) for t in range(1, T + 1)])


def trace_study():
    from resdyn.studies.sections.trace import ConvSpec, ConvTraining, TraceStudy

    models = {n: traced_model() for n in NETS}
    models["conv"] = traced_model("ConvResNet1d", (2, 2, 2), worst=3)
    spec = ConvSpec([16, 32, 64], 2, n_train=10000, epochs=30, batch_size=64, lr=0.003, patience=3)
    return TraceStudy(n_samples=2000, classes=list(range(10)), models=models,
                      conv=ConvTraining(spec=spec, in_channels=28, length=28, n_train=10000, seed=0, train_seconds=60.0,
                                        test_acc=0.97, epochs_trained=12, kept_epoch=9, capped=False))


def depth1d():
    from resdyn.studies.sections.common import t_interval
    from resdyn.studies.sections.depth1d import Depth1d, FamilyDepth
    from resdyn.lib.zoo import FAMILIES

    families = {f.name: FamilyDepth(title=f.title, lr=1e-3,
                                    test_acc={"1": t_interval([60.0 + i, 61.0 + i, 62.0 + i]), "4": t_interval([80.0, 81.0, 83.0])},
                                    epochs={"1": [20, 21, 22], "4": [15, 16, 17]},
                                    gain=t_interval([20.0, 20.0 - i, 21.0]), parameters={"1": 1000, "4": 4000})
                for i, f in enumerate(FAMILIES)}
    return Depth1d(settings={"depth": 4, "ladder": [1, 4], "seeds": [0, 1, 2]},
                   selection=[{"family": f, "lr": 1e-3, "val_loss": 0.5, "val_acc": 0.8, "epochs": 20} for f in families],
                   families=families, n_nets=28, train_seconds=600.0, wall_seconds=400.0)


def criteria1d():
    from resdyn.lib.removal import CRITERIA, STRATEGIES
    from resdyn.studies.sections.common import t_interval
    from resdyn.studies.sections.criteria1d import Criteria1d, FamilyCriteria
    from resdyn.lib.zoo import FAMILY_NAMES

    iv = t_interval([0.5, 0.6, 0.7])
    fam = FamilyCriteria(spearman={c: iv for c in CRITERIA}, score={s: t_interval([0.8, 0.85, 0.9]) for s in STRATEGIES},
                         score_healed={s: t_interval([0.9, 0.92, 0.95]) for s in STRATEGIES},
                         minus_deepest={s: t_interval([1.0, 2.0, 3.0]) for s in STRATEGIES},
                         curves={s: {"acc": [90.0, 80.0, 50.0], "healed": [92.0, 85.0, 60.0]} for s in STRATEGIES},
                         lesion=[0.5, 0.1, 0.05, 0.01], base_acc=t_interval([95.0, 96.0, 97.0]), best_peer="block_influence",
                         difference=t_interval([-0.01, 0.0, 0.01]))
    mnist = {"spearman": {c: 0.5 for c in CRITERIA}, "score": {s: 0.9 for s in STRATEGIES},
             "curves": {s: [95.0, 90.0, 80.0] for s in STRATEGIES}, "lesion": [0.1, 0.01, 0.0, 0.0], "base_acc": 98.0}
    return Criteria1d(families={f: fam for f in FAMILY_NAMES}, mnist={n: mnist for n in NETS}, nets=[],
                      healing={"steps": 30, "lr": 1e-3, "batch_size": 128},
                      depth_verdicts={f: "holds" for f in FAMILY_NAMES}, wall_seconds=300.0)


def adaptive1d():
    from resdyn.studies.sections.adaptive1d import Adaptive1d, AdaptiveRun, FamilyAdaptive
    from resdyn.studies.sections.common import t_interval
    from resdyn.lib.zoo import FAMILY_NAMES

    runs = [AdaptiveRun(family=f, seed=s, threshold=t, final_depth=3, test_acc=90.0, epochs=20,
                        removed=[{"epoch": 3, "depth_after": 3, "criterion": 0.005}], initial_criterion=0.05, final_criterion=0.004,
                        censored=False, macs=1e12)
            for f in FAMILY_NAMES for s, t in ((0, 0.003), (0, 0.01), (1, 0.01), (2, 0.01))]
    fam = FamilyAdaptive(final_depths=[3, 3, 3], change=t_interval([-0.5, -0.2, 0.1]), scratch_acc=[89.0, 90.0, 91.0],
                         deep_acc=[90.0, 90.5, 91.0], macs={k: [1e12, 1.1e12, 1.2e12] for k in ("adaptive", "deep", "scratch", "growing")},
                         untrained_below=0, removed_any=True)
    return Adaptive1d(runs=runs, families={f: fam for f in FAMILY_NAMES}, threshold=0.01, wall_seconds=100.0)


def by_regime():
    from resdyn.core import claims
    from resdyn.studies.sections.by_regime import ByRegime, Choice

    choice = [Choice(init_scale=s, lr=lr, val_acc=0.97, epochs=12, chosen=(s, lr) == (0.1, 1e-3))
              for s in (0.1, 1.0) for lr in (1e-3, 3e-4)]
    return ByRegime(regimes=dict(claims.REGIMES), settings={n: {"scaling": "unit"} for n in claims.REGIMES},
                    runs={n: seeds() for n in claims.REGIMES},
                    controls={n: [control_run(s) for s in range(3)] for n in claims.REGIMES},
                    sweep={n: threshold_runs() for n in claims.REGIMES}, choice=choice)


def threshold_runs(n_seeds=3):
    """The threshold sweep of ``n_seeds`` seeds: depth 15 - 2 * (index of the threshold), censored
    at the largest threshold, change -0.1 * seed points."""
    from resdyn.core import claims
    from resdyn.studies.sections.by_regime import ThresholdRun

    ts = claims.CONVERGENCE_SWEEP
    return [ThresholdRun(threshold=t, seed=s, final_depth=15 - 2 * i, censored=i == len(ts) - 1, epochs=20 + s,
                         test_acc=0.98, change=-0.1 * s) for s in range(n_seeds) for i, t in enumerate(ts)]


def control_run(seed=0, *, shuffled_layer=None, mlp_ratio=0.95, mlp_silhouette=0.05, changed=None, mlp_val_acc=None,
                unopposed=()):
    """One seed's controls: the shuffled-label nets settle at ``shuffled_layer`` (every scale), the
    non-residual nets have ``mlp_ratio`` and ``mlp_silhouette`` (and, given, the validation accuracy
    ``mlp_val_acc``, ten classes)."""
    from resdyn.core.claims import NETS, control_learned
    from resdyn.studies.sections.controls import CURVES, ControlRun, MlpNet, ShuffledNet

    sh = ShuffledNet(val_acc=0.11, mean_layer=shuffled_layer, std_layer=shuffled_layer,
                     mean_layer_absolute=shuffled_layer, std_layer_absolute=shuffled_layer)
    mlp = MlpNet(test_acc=0.9, mean_ratio=mlp_ratio, knn_accuracy=0.5, silhouette=mlp_silhouette, val_acc=mlp_val_acc,
                 learned=control_learned(mlp_val_acc, 10))
    ratios = {f"{c}/{n}": [1.0 - 0.01 * t for t in range(15)] for c in CURVES for n in NETS}
    return ControlRun(seed=seed, shuffled={n: sh for n in NETS}, mlp={n: mlp for n in NETS}, layer_ratio=ratios,
                      changed=changed or {}, unopposed=list(unopposed))


def intervention_study(seeds_per_regime=2):
    """Every regime, net and seed: trained nets settle at layer 5 + seed; centring removes settling,
    layer-1 norm delays it by one layer, halving leaves it."""
    from resdyn.core import claims
    from resdyn.studies.sections.intervention import KINDS, InterventionPoint, InterventionStudy

    moved = {"trained": 0, "centred": None, "layer1_norm": 1, "halved": 0}
    points = [InterventionPoint(regime=r, net=n, seed=s, kind=k, std_layer=None if moved[k] is None else 5 + s + moved[k],
                                deep_std_ratio=0.03, saturation=0.5 if k != "centred" else 0.1,
                                weight_ratio=0.4 if k != "layer1_norm" else 1.0)
              for r in claims.REGIMES for n in claims.NETS for s in range(seeds_per_regime) for k in KINDS
              if not (k == "layer1_norm" and n == "shared")]
    return InterventionStudy(from_layer=7, seeds={r: seeds_per_regime for r in claims.REGIMES}, points=points)


def complete_record(**overrides) -> Results:
    """Every section filled; ``overrides`` replace sections by name. Verdicts computed from them."""
    from resdyn.core import claims

    parts = {"runs": {"paper": run_info(), "seeds": run_info(), "study": run_info(), "criteria": run_info(),
                      "regimes": run_info()},
             "regime": regime(),
                "fig1ab": fig1ab(), "fig1c": fig1c(), "fig1d": fig1d(), "adaptive": adaptive(), "seeds": seeds(),
                "mechanism": mechanism_study(), "regime_map": regime_map(), "depth": depth(), "toy": toy(),
                "precision": precision(), "trace": trace_study(), "depth1d": depth1d(), "criteria1d": criteria1d(),
                "adaptive1d": adaptive1d(), "by_regime": by_regime(), "intervention": intervention_study()}
    record = Results(**{**parts, **overrides})
    return replace(record, verdicts=claims.verdicts(record, sections.SECTIONS))
