"""Controls that can meet the tests (issue 19, item 2): the clauses of claims.SHUFFLED_CONTROL and
claims.MLP_CONTROL, the layer-by-layer ratio, and how they change one seed's verdicts."""
from dataclasses import replace

import numpy as np
import pytest
import torch
from records import by_regime, control_run

from resdyn.core import claims
from resdyn.studies import plots
from resdyn.core.data import Split
from resdyn.core.dynamics import trajectory_distances
from resdyn.studies.sections.controls import layer_ratios
from resdyn.studies.sections import by_regime as by_regime_section
from resdyn.studies.sections import controls
from resdyn.studies.sections.seeds import METRICS, SeedRun


def test_layer_ratios_has_the_known_answer_of_two_classes_on_a_line():
    # class 0 at {0, 1}, class 1 at {10, 11} in layer 1: within 1, between 10 -> 0.1 for both classes;
    # layer 2 mixes them ({0, 10} and {1, 11}): within 10, between (1 + 11 + 9 + 1) / 4 = 5.5
    traj = torch.tensor([[[0.0], [0.0]], [[1.0], [10.0]], [[10.0], [1.0]], [[11.0], [11.0]]])
    labels = torch.tensor([0, 0, 1, 1])
    assert layer_ratios(traj, labels).tolist() == pytest.approx([0.1, 10 / 5.5])


def test_layer_ratios_is_fig1c_on_each_layer_alone():
    g = torch.Generator().manual_seed(0)
    traj, labels = torch.randn(30, 4, 5, generator=g), torch.arange(30) % 3
    expected = [trajectory_distances(traj[:, t:t + 1], labels).ratio.double().mean().item() for t in range(4)]
    assert layer_ratios(traj, labels).tolist() == pytest.approx(expected, rel=1e-6)


def test_layer_ratios_rejects_one_layer_without_its_axis():
    with pytest.raises(ValueError, match=r"residuals must have shape \(n, T, N\), got \(4, 2\)"):
        layer_ratios(torch.zeros(4, 2), torch.zeros(4))


def test_the_shuffled_label_clause_turns_only_a_holding_verdict_into_no_evidence():
    by = claims.SHUFFLED_CONTROL.thresholds["by_layer"]
    assert claims.shuffled_clause("holds", by) == "no evidence"
    assert claims.shuffled_clause("holds", by + 1) == "holds"
    assert claims.shuffled_clause("holds", None) == "holds"
    assert claims.shuffled_clause("partly", 1) == "partly" and claims.shuffled_clause("does not", 1) == "does not"


def test_the_mlp_clauses_fire_on_the_margins_of_the_residual_rules():
    m, s = claims.MLP_CONTROL.thresholds["distance_margin"], claims.MLP_CONTROL.thresholds["silhouette_margin"]
    assert (m, s) == (claims.DISTANCE.thresholds["margin"], claims.TSNE.thresholds["silhouette_margin"])
    assert claims.mlp_distance_clause("holds", 0.80, 0.80 + m) == "no evidence"  # on the margin
    assert claims.mlp_distance_clause("holds", 0.81, 0.80 + m) == "holds"
    assert claims.mlp_distance_clause("partly", 0.1, 0.9) == "partly"
    assert claims.mlp_tsne_clause("holds", 0.10 + s, 0.10) == "no evidence"
    assert claims.mlp_tsne_clause("holds", 0.09 + s, 0.10) == "holds"
    assert claims.mlp_tsne_clause("no evidence", 0.9, 0.1) == "no evidence"


def _seed_run():
    numbers = {k: 0.0 for k in METRICS} | {f"distance_ratio_{n}": 0.6 for n in claims.NETS} \
        | {f"distance_margin_{n}": 0.3 for n in claims.NETS} | {f"silhouette_{n}": 0.5 for n in claims.NETS} \
        | {f"silhouette_margin_{n}": 0.4 for n in claims.NETS}  # better controls: ratio 0.9, silhouette 0.1
    keys = [f"{c}_{n}" for c in ("mean_layer", "std_layer", "mean_absolute", "std_absolute", "distance", "tsne", "error")
            for n in claims.NETS]
    return SeedRun(seed=0, numbers=numbers, verdicts={k: "holds" for k in keys} | {"std_layer_shared": "partly"})


def test_judge_applies_each_control_to_its_own_claims():
    run = _seed_run()
    judged, c = controls.judge(run, control_run(shuffled_layer=3, mlp_ratio=0.95, mlp_silhouette=0.12))
    settling = [f"{k}_{n}" for k in ("mean_layer", "std_layer", "mean_absolute", "std_absolute") for n in claims.NETS]
    assert {k for k, v in judged.verdicts.items() if v == "no evidence"} == set(settling) - {"std_layer_shared"}
    assert judged.verdicts["std_layer_shared"] == "partly" and judged.verdicts["error_shared"] == "holds"
    assert c.changed == {k: "holds -> no evidence" for k in set(settling) - {"std_layer_shared"}}
    assert run.verdicts["mean_layer_shared"] == "holds"  # non-destructive
    judged, c = controls.judge(run, control_run(shuffled_layer=None, mlp_ratio=0.85, mlp_silhouette=0.15))
    assert set(c.changed) == {f"{k}_{n}" for k in ("distance", "tsne") for n in claims.NETS}


def test_the_report_lists_the_controls_and_what_they_changed():
    rec = by_regime()
    rec = type(rec)(**{**vars(rec), "controls": {**rec.controls, "baseline": [
        control_run(0, shuffled_layer=4, changed={"std_layer_shared": "holds -> no evidence"})]}})
    text = by_regime_section.render(rec, "[15](x)")
    head, rows = by_regime_section.control_table(rec)
    assert len(rows) == len(claims.REGIMES) * len(claims.NETS) and rows[-1][3] == "4 / 4"
    assert rows[0][3] == "never, never, never / never, never, never" and rows[0][2] == "11.00 %, 11.00 %, 11.00 %"
    assert ("Seed verdicts the controls changed:\n\n- *across-sample std of residuals near 0 after a layer (shared)*: "
            "holds -> met by a control too (baseline regime: seed 0)\n") in text


def test_the_layer_ratio_figure_has_a_panel_per_regime_and_net_and_a_line_per_curve_and_seed():
    fig = plots.layer_ratios(by_regime())
    assert len(fig.axes) == len(claims.REGIMES) * len(claims.NETS)
    ax = fig.axes[0]
    assert len(ax.lines) == len(controls.CURVES) * (3 + 1) + 1 and ax.get_xlabel() == "layer t"
    assert [t.get_text() for t in fig.legends[0].get_texts()][:3] == list(controls.CURVES.values())
    assert ax.get_ylim()[0] == 0 and [1, 15] == [ax.get_xticks()[0], ax.get_xticks()[-1]]  # 0 and both ends


def test_the_layer_ratio_mean_skips_unmeasured_seeds_and_leaves_a_layer_no_seed_measured_a_gap():
    import dataclasses
    import warnings

    rec = by_regime()
    name, key = next(iter(rec.controls)), "mlp_x/separate"  # the first panel's non-residual curve
    ratios = [[None, None] + [0.5] * 13, [None, 0.7] + [0.5] * 13, [None, 0.9] + [0.5] * 13]  # a collapsed net
    rec.controls[name] = [dataclasses.replace(c, layer_ratio={**c.layer_ratio, key: r})
                          for c, r in zip(rec.controls[name], ratios)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" in a notebook's output
        fig = plots.layer_ratios(rec)
    mean = fig.axes[0].lines[3 * (3 + 1) - 1].get_ydata()  # the third curve's thick line
    assert np.isnan(mean[0]) and mean[1] == pytest.approx(0.8) and mean[2] == pytest.approx(0.5)


def test_the_sweep_table_gives_every_threshold_s_depths_and_change_over_the_seeds():
    head, rows = by_regime_section.sweep_table(by_regime())
    assert len(rows) == len(claims.REGIMES) * len(claims.CONVERGENCE_SWEEP)
    assert rows[0] == ["chosen regime", "0.001", "15, 15, 15", "20, 21, 22", "-0.10 [-0.35, +0.15]"]
    assert rows[3][2] == "9 c, 9 c, 9 c"


class _Fit:
    def __init__(self, depth, criteria, test_acc):
        from types import SimpleNamespace
        self.model = SimpleNamespace(depth=depth)
        self.history = [SimpleNamespace(criterion=c) for c in criteria]
        self.test_acc, self.best_epoch = test_acc, len(criteria)


def test_threshold_sweep_trains_each_threshold_beside_the_unpruned_net_and_marks_censoring(monkeypatch):
    from resdyn.studies.experiment import setup

    exp = setup(quick=True, verbose=False)
    fits = [_Fit(15, [0.5, 0.5], 0.97), _Fit(14, [0.5, 0.0005], 0.96), _Fit(15, [0.5, 0.5], 0.97),
            _Fit(12, [0.005, 0.02, 0.02], 0.975), _Fit(2, [0.001, 0.001], 0.9)]
    seen = []

    def fake_train(self, *jobs, progress=True):
        seen.extend(jobs)
        return fits

    monkeypatch.setattr(type(exp), "train", fake_train)
    runs = by_regime_section.threshold_sweep(exp)
    assert [j.adaptive for j in seen[:1]] == [None]
    assert [j.adaptive.threshold for j in seen[1:]] == list(claims.CONVERGENCE_SWEEP)
    assert [(r.final_depth, r.censored) for r in runs] == [(14, True), (15, False), (12, False), (2, True)]
    assert [r.change for r in runs] == [-1.0, 0.0, 0.5, -7.0]


def test_a_collapsed_non_residual_net_has_no_embedding_and_cannot_meet_a_test():
    from resdyn.core.data import Split
    from resdyn.core.model import DenseResNet, ModelConfig

    net = DenseResNet(ModelConfig(width=8, depth=3, n_classes=2, residual=False), seed=0)
    with torch.no_grad():
        for b in net.blocks:
            b.weight.zero_()  # every sample maps to sigmoid(b): one point
    x = torch.randn(100, 8, generator=torch.Generator().manual_seed(0))
    m = controls.mlp_net(net, Split(x, torch.arange(100) % 2), test_acc=0.5, seed=0)
    assert (m.mean_ratio, m.knn_accuracy, m.silhouette) == (None, None, None)
    c = controls.ControlRun(seed=0, shuffled=control_run().shuffled, mlp={n: m for n in claims.NETS}, layer_ratio={},
                            changed={})
    judged, c = controls.judge(_seed_run(), c)
    assert c.changed == {} and judged.verdicts == _seed_run().verdicts


def test_tables_follow_the_regimes_order_whatever_the_record_s_key_order():
    rec = by_regime()
    backwards = type(rec)(**{**vars(rec), **{f: dict(sorted(getattr(rec, f).items())) for f in ("runs", "controls", "sweep")}})
    assert list(backwards.runs) == ["baseline", "chosen", "paper_like"]
    names = [claims.regime_name(r) for r in claims.REGIMES]
    assert [r[0] for r in by_regime_section.control_table(backwards)[1]][::2] == names
    assert [r[0] for r in by_regime_section.sweep_table(backwards)[1]][::len(claims.CONVERGENCE_SWEEP)] == names
    assert by_regime_section.claim_cells(backwards)[0][0].startswith("chosen")


def test_in_order_puts_known_keys_in_the_package_s_order_and_keeps_the_rest():
    assert claims.in_order({"b": 1, "z": 2, "a": 3}, ("a", "b", "c")) == ["a", "b", "z"]
    assert claims.in_regime_order({"baseline": 0, "chosen": 0}) == ["chosen", "baseline"]


@pytest.mark.parametrize("verdict, beats, expected", [("holds", True, "holds"), ("holds", False, "no evidence"),
                                                      ("partly", False, "no evidence"), ("partly", True, "partly"),
                                                      ("does not", False, "does not")])
def test_a_claim_its_controls_also_meet_is_no_evidence(verdict, beats, expected):
    from resdyn.core.claims.judge import no_evidence_unless

    assert no_evidence_unless(verdict, beats) == expected


# -- the learning clause: a control within a few points of chance did not learn ---------------------------
@pytest.mark.parametrize("val_acc, n_classes, learned", [
    (0.14, 10, False), (0.15, 10, True), (0.16, 10, True), (0.549, 2, False), (0.55, 2, True), (None, 10, None)])
def test_a_control_learned_when_its_validation_accuracy_clears_chance_by_the_margin(val_acc, n_classes, learned):
    assert claims.MLP_CONTROL.thresholds["learned_points"] == 5
    assert claims.control_learned(val_acc, n_classes) is learned


def test_a_control_that_did_not_learn_judges_nothing_and_the_verdicts_it_left_say_so():
    run = _seed_run()
    # a ratio and silhouette that would turn Fig. 1C and 1D into no evidence, from a control at chance
    judged, c = controls.judge(run, control_run(mlp_ratio=0.85, mlp_silhouette=0.15, mlp_val_acc=0.11))
    assert c.changed == {} and judged.verdicts == run.verdicts
    assert sorted(c.unopposed) == sorted(f"{k}_{n}" for k in ("distance", "tsne") for n in claims.NETS)
    judged, c = controls.judge(run, control_run(mlp_ratio=0.85, mlp_silhouette=0.15, mlp_val_acc=0.9))
    assert c.unopposed == [] and set(c.changed) == {f"{k}_{n}" for k in ("distance", "tsne") for n in claims.NETS}
    # over the seeds: a verdict that holds says in words that the non-residual control did not train
    v = claims.Verdict("distance_shared/chosen", "claim", "paper", "ours", "raw 0.9", "holds")
    said = by_regime_section.unopposed(v, [0, 2])
    assert said.verdict == "holds" and said.controls.startswith(claims.UNTRAINED_CONTROL + " (seeds 0, 2); raw 0.9")
    assert by_regime_section.unopposed(v, []) == v
    assert by_regime_section.unopposed(replace(v, verdict="no evidence"), [0]).verdict == "no evidence"


def test_the_report_carries_each_control_s_accuracy_and_the_verdicts_left_unopposed():
    rec = by_regime()
    rec = type(rec)(**{**vars(rec), "controls": {**rec.controls, "chosen": [
        control_run(s, mlp_val_acc=0.11, unopposed=["distance_shared"]) for s in range(3)]}})
    head, rows = by_regime_section.control_table(rec)
    column = head.index("non-residual: val. accuracy (learned?)")
    assert rows[0][column] == ", ".join(["11.00 % (did not learn)"] * 3) and rows[-1][column] == "–, –, –"
    said = {v.key: v for v in by_regime_section.verdicts(rec)}["distance_shared/chosen"]
    if said.verdict == "holds":
        assert said.controls.startswith(claims.UNTRAINED_CONTROL + " (seeds 0, 1, 2)")
    else:
        assert claims.UNTRAINED_CONTROL not in said.controls


def test_mlp_net_records_its_accuracies_and_whether_it_learned():
    from resdyn.core.model import DenseResNet, ModelConfig

    net = DenseResNet(ModelConfig(width=8, depth=3, n_classes=2, residual=False), seed=0)
    x = torch.randn(100, 8, generator=torch.Generator().manual_seed(0))
    m = controls.mlp_net(net, Split(x, torch.arange(100) % 2), test_acc=0.5, val_acc=0.52, seed=0)
    assert (m.test_acc, m.val_acc, m.learned) == (0.5, 0.52, False)
    assert controls.mlp_net(net, Split(x, torch.arange(100) % 2), test_acc=0.5, seed=0).learned is None


def test_the_non_residual_control_is_chosen_on_validation_from_a_set_written_before_the_run():
    from resdyn.studies.experiment import setup

    cands = controls.mlp_candidates(1e-3)
    assert cands[0] is controls.MLP and len(cands) == len(controls.MLP_INITS) * len(claims.MLP_CONTROL.thresholds["lr_factors"])
    assert {(v.model.get("init_scale", "regime"), v.train["lr"] if v.train else 1e-3) for v in cands} == {
        ("regime", 1e-3), ("regime", 3e-4), (None, 1e-3), (None, 3e-4)}
    assert all(v.model["residual"] is False for v in cands) and len({v.key for v in cands}) == len(cands)
    assert controls.choose([0.1, 0.3, 0.3, 0.2]) == 1 and controls.choose([0.5]) == 0
    exp = setup(quick=True, verbose=False)
    js = controls.jobs(exp)
    assert len(js) == len(claims.NETS) * (1 + len(cands))
    # the first candidate's job is the control's job as before the choice (its cached net is reused)
    assert js[1] == exp.job(shared=False, variant=controls.MLP)
    assert {j.train.lr for j in js[1:1 + len(cands)]} == {exp.train_config.lr, round(0.3 * exp.train_config.lr, 12)}
