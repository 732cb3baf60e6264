"""A complete results record (every section of results.json) with made-up numbers, for the tests of
claims, report, CLI and the schema. ``complete_record(...)`` takes overrides per section."""
from dataclasses import replace

from resdyn.paper import (
    AdaptiveDepth,
    AdaptiveNet,
    BaselineNet,
    Fig1AB,
    Fig1C,
    Fig1D,
    LesionRow,
    RegimeSweep,
    ResidualProfile,
    Scratch,
    Separation,
    Stage2,
    SweepRow,
    TrainedNet,
)
from resdyn.results import Results, RunInfo

NETS = ("separate", "shared")


def history(epochs=3, depth=15, criterion=0.02):
    return [{"epoch": e, "depth": depth, "loss": 0.1 / e, "train_acc": 0.97, "test_acc": 0.98, "seconds": 10.0,
             "lr": 1e-3, "criterion": criterion, "test_acc_unpruned": None} for e in range(1, epochs + 1)]


def sweep_row(key, name, shared=False, acc=0.95):
    return SweepRow(key=key, name=name, shared=shared, scaling="standard", init_scale=0.1, init_bias=-4.0,
                    optimizer="adam", lr=1e-3, schedule="cosine", batch_size=128, test_acc=acc, train_loss=0.2,
                    seconds=6.0)


def regime():
    return RegimeSweep(
        n_train=20000, epochs=1,
        chosen={"scaling": "standard", "init_scale": 0.1, "init_bias": -4.0, "optimizer": "adam", "lr": 0.001,
                "schedule": "cosine", "batch_size": 128, "epochs": 10},
        table=[sweep_row("chosen", "chosen regime", acc=0.94), sweep_row("baseline", "baseline", acc=0.86),
               sweep_row("lr_3e-3", "lr 3e-3", acc=0.955), sweep_row("chosen", "chosen regime", shared=True)],
        best="lr_3e-3", chosen_rank=2, chosen_acc=0.94, baseline_acc=0.86,
        stage2=Stage2(epochs=10, runner_up="lr_3e-3", test_acc={"chosen": 0.9858, "lr_3e-3": 0.9855},
                      seconds={"chosen": 170.0, "lr_3e-3": 185.0}))


def fig1ab(acc=None, std_layer=None, mean_layer=None):
    acc = acc or {"separate": 0.982, "shared": 0.9861}
    std_layer = std_layer or {"separate": 4, "shared": None}
    mean_layer = mean_layer or {"separate": 6, "shared": 12}
    return Fig1AB(
        depth=15, epochs=10, n_per_class=200, seed=0,
        nets={n: TrainedNet(test_acc=acc[n], train_seconds=100.0, epochs=3, history=history()) for n in NETS},
        profiles={n: ResidualProfile(std_profile=[0.1] * 15, change_profile=[0.01] * 14, std_layer=std_layer[n],
                                     mean_layer=mean_layer[n], std_peak_layer=1) for n in NETS},
        baseline={n: BaselineNet(test_acc=0.86, mean_layer=None, std_layer=6, std_profile=[0.1] * 15) for n in NETS})


def fig1c(ratio_sep=0.5):
    ratios = {"separate": [ratio_sep] * 10, "shared": [0.9] * 5 + [1.1] * 5}
    return Fig1C(classes=list(range(10)), n_samples=2000, trajectory_length=11760, ratio=ratios,
                 within={n: [1.0] * 10 for n in NETS}, between={n: [2.0] * 10 for n in NETS},
                 class_mean={n: [[1.0] * 10] * 10 for n in NETS})


def fig1d():
    return Fig1D(separation={"separate": Separation(0.95, 0.4, 10), "shared": Separation(0.95, 0.1, 10)},
                 perplexity=30.0, seed=0, seconds={n: 10.0 for n in NETS})


def adaptive_net(final_depth=5, test_acc=0.98, full_test_acc=0.982, always_below=False):
    return AdaptiveNet(initial_depth=15, final_depth=final_depth, test_acc=test_acc, full_test_acc=full_test_acc,
                       train_seconds=100.0, full_train_seconds=150.0, epochs=3, criterion_always_below=always_below,
                       criterion_never_below=False, history=history(), pruning=[])


def adaptive(final_depth=5, **kw):
    return AdaptiveDepth(threshold=0.01, probe_size=1000, seed=0,
                         nets={n: adaptive_net(final_depth, **kw) for n in NETS},
                         scratch=Scratch(depth=5, test_acc=0.9836, train_seconds=50.0),
                         lesion=[LesionRow(depth=d, test_acc=0.9, test_acc_folded=0.95) for d in range(1, 16)])


def run_info(mode="full"):
    return RunInfo(identity={"mode": mode, "dataset": "mnist", "seed": 0, "code": "abc", "commit": "0123"},
                   notebook_seconds={"00_training_regime": 100.0}, wall_seconds=100.0, versions={"torch": "2.14.1"},
                   machine="test machine", torch_threads=2, notebooks_run=["00_training_regime"], peak_rss_mb=1000.0)


def complete_record(**overrides) -> Results:
    """Every section filled; ``overrides`` replace sections by name. Verdicts computed from them."""
    from resdyn import claims

    sections = {"run": run_info(), "regime": regime(), "fig1ab": fig1ab(), "fig1c": fig1c(), "fig1d": fig1d(),
                "adaptive": adaptive()}
    record = Results(**{**sections, **overrides})
    return replace(record, verdicts=claims.verdicts(record))
