"""Every claim in each regime (issue 19, item 1): the regimes' settings, the paper-like choice on
validation, the verdicts' keys and the table a reader sees."""
from dataclasses import replace

import pytest
from records import by_regime, seeds

from resdyn.core import claims
from resdyn.lib import fragments
from resdyn.studies import plots
from resdyn.studies.experiment import PAPER_LIKE_GRID, QUICK_TRAIN, REGIME, regime_train, setup
from resdyn.studies.regimes import BASELINE, paper_like
from resdyn.studies.sections import by_regime as section


def test_the_chosen_regime_s_setup_is_the_paper_run_s():
    exp = setup(quick=True, verbose=False)
    same = section.regime_setup(exp, REGIME, seed=0)
    assert same.train_config == exp.train_config and same.model_config(shared=True) == exp.model_config(shared=True)
    assert same.job(shared=False) == exp.job(shared=False)  # the same cache entries as the paper notebooks'
    assert fragments.experiment_spec(same) == fragments.experiment_spec(exp)


def test_the_regimes_are_what_claims_says():
    like = paper_like(init_scale=1.0, lr=3e-4)
    assert (like.scaling, like.init_scale, like.init_bias, like.train.schedule, like.train.lr) == ("unit", 1.0, 0.0,
                                                                                                   "constant", 3e-4)
    assert (like.train.patience, like.train.epochs) == (claims.CONVERGENCE.thresholds["patience"],
                                                       claims.CONVERGENCE.thresholds["max_epochs"])
    # the stopping signal is named in the ledger and reaches the training settings and the regime's table row
    assert like.train.stop_on == claims.CONVERGENCE.thresholds["stop_on"] == like.settings()["stop_on"] == "val_loss"
    assert "stop_on" not in BASELINE.settings()
    assert (BASELINE.scaling, BASELINE.init_scale, BASELINE.train.lr, BASELINE.train.epochs) == ("unit", None, 1e-3, 10)
    assert set(claims.REGIMES) == set(claims.REGIME_SEEDS) == {"chosen", "paper_like", "baseline"}


def test_quick_mode_scales_each_regime_s_learning_rate_as_it_scales_the_chosen_one():
    assert regime_train(REGIME, quick=True) == QUICK_TRAIN
    assert regime_train(BASELINE, quick=True).lr == QUICK_TRAIN.lr
    assert regime_train(paper_like(init_scale=0.1, lr=3e-4), quick=True).lr == pytest.approx(3e-3)


def test_converge_trains_to_convergence_whatever_the_regime_s_epochs():
    full = regime_train(REGIME, quick=False, converge=True)
    assert (full.epochs, full.patience, full.schedule) == (claims.CONVERGENCE.thresholds["max_epochs"],
                                                           claims.CONVERGENCE.thresholds["patience"], "cosine")
    assert regime_train(REGIME, quick=True, converge=True).epochs == QUICK_TRAIN.epochs
    assert regime_train(BASELINE, quick=False).patience is None
    assert regime_train(REGIME, quick=False, converge=True).stop_on == claims.CONVERGENCE.thresholds["stop_on"]
    assert regime_train(paper_like(init_scale=0.1, lr=3e-4), quick=True).stop_on == "val_loss"


class _Fit:
    def __init__(self, val_acc):
        self.val_acc, self.history, self.best_epoch = val_acc, [None] * 7, 4


def test_the_paper_like_details_are_the_best_on_validation_first_on_a_tie(monkeypatch):
    exp = setup(quick=True, verbose=False)
    # candidates in the grid's order: constant (0.1, 1e-3), (0.1, 3e-4), (1.0, ...), then the same with cosine
    accs = iter([0.90, 0.95, 0.95, 0.80, 0.85, 0.94, 0.95, 0.70])
    trained = []

    def fake_train(self, *jobs, progress=True):
        trained.extend(jobs)
        return [_Fit(next(accs)) for _ in jobs]

    monkeypatch.setattr(type(exp), "train", fake_train)
    regime, rows = section.choose_paper_like(exp)
    assert (regime.init_scale, regime.train.lr) == (PAPER_LIKE_GRID["init_scale"][0], PAPER_LIKE_GRID["lr"][1])
    assert [r.chosen for r in rows] == [False, True] + [False] * 6 and rows[1].epochs == 7
    assert rows[1].kept_epoch == 4  # the epoch whose net was kept (its validation accuracy is the row's)
    assert [r.schedule for r in rows] == ["constant"] * 4 + ["cosine"] * 4 and regime.train.schedule == "constant"
    assert len(trained) == 8 and not any(j.model.shared_weights for j in trained)
    assert [j.train.schedule for j in trained] == [r.schedule for r in rows]
    assert {j.data.scaling for j in trained} == {"unit"}


def test_a_cosine_schedule_can_be_the_paper_like_choice_and_its_unit_gives_it_back(monkeypatch):
    from resdyn.studies.sections.regime_units import ChoiceUnit

    exp = setup(quick=True, verbose=False)
    accs = iter([0.90, 0.91, 0.92, 0.93, 0.80, 0.99, 0.95, 0.70])
    monkeypatch.setattr(type(exp), "train", lambda self, *jobs, progress=True: [_Fit(next(accs)) for _ in jobs])
    regime, rows = section.choose_paper_like(exp)
    assert (regime.init_scale, regime.train.lr, regime.train.schedule) == (0.1, 3e-4, "cosine")
    assert ChoiceUnit(choice=rows).regime() == regime
    assert section.Choice(init_scale=0.1, lr=1e-3, val_acc=0.9, epochs=3, chosen=True).schedule == "constant"


def test_verdicts_are_the_seeds_rule_in_every_regime():
    rec = by_regime()
    rec = replace(rec, runs={**rec.runs, "baseline": seeds({"error_shared": [1.0, 1.0, 1.01]})})
    v = {x.key: x for x in section.verdicts(rec)}
    assert v["error_shared/chosen"].verdict == claims.over_seeds(seeds())[1].verdict
    assert v["error_shared/baseline"].verdict == "holds" and v["error_shared/baseline"].claim.endswith("(baseline regime)")
    head, rows = section.claim_table(rec)
    assert head == ["claim", "chosen regime (3 seeds)", "paper-like regime (3 seeds)", "baseline regime (3 seeds)"]
    assert rows[1] == ["15-layer net, shared weights: MNIST test error", "**on its threshold** (3/3 holds)",
                       "**on its threshold** (3/3 holds)", "**holds** (3/3 holds)"]  # the plain labels
    assert not any("_" in r[0] for r in rows), [r[0] for r in rows]  # claims in words, not their keys


def test_the_matrix_figure_draws_one_cell_per_claim_and_regime():
    fig = plots.claims_by_regime(by_regime())
    ax = fig.axes[0]
    assert len(ax.patches) == len(claims.SEED_CLAIMS) * len(claims.NETS) * len(claims.REGIMES)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "chosen regime\n(3 seeds)", "paper-like regime\n(3 seeds)", "baseline regime\n(3 seeds)"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["15-layer net, separate weights: MNIST test error",
                          "15-layer net, shared weights: MNIST test error"]
    assert not any("_" in t or t.endswith("over the seeds") for t in labels), labels
    cells = [t.get_text() for t in ax.texts]
    assert "on its threshold\n3/3 holds" in cells  # the plain label, as in the report's summary table
    assert not any(w in c for c in cells for w in ("borderline", "no evidence", "inconclusive"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "holds", "holds in part", "on its threshold", "does not hold", "met by a control too", "cannot be decided",
        "not judged"]


def test_the_matrix_figure_wraps_long_claims_so_that_no_two_labels_overlap():
    import matplotlib.pyplot as plt

    fig = plots.claims_by_regime(by_regime())
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = ax.get_yticklabels()
    assert all(len(line) <= 52 for t in labels for line in t.get_text().split("\n"))
    assert any("\n" in t.get_text() for t in labels)  # the absolute-scale claims are longer than a line
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert all(a.y0 >= b.y1 - 1 or b.y0 >= a.y1 - 1 for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(fig)


def test_where_claims_hold_groups_the_claims_by_the_regimes_they_hold_in(monkeypatch):
    cells = (["chosen", "paper_like"], [("x", [("holds", "5/5 holds"), ("holds", "3/3 holds")]),
                                        ("y", [("holds", ""), ("borderline", "")]),
                                        ("z", [("does not", ""), ("no evidence", "")]), ("w", [("does not", ""), ("–", "")]),
                                        ("v", [("n/a", ""), ("n/a", "")])])
    monkeypatch.setattr(section, "claim_cells", lambda rec: cells)
    monkeypatch.setattr(section, "claim_names", lambda rec: {"x": "claim X", "y": "claim Y", "z": "claim Z"})
    assert section.where_claims_hold(None) == (
        "Where each paper claim holds, by its verdict over the regime's seeds (chosen regime, paper-like regime). In "
        "every regime: *claim X*. In some regimes: *claim Y* (chosen regime). In none: *claim Z* (does not / no "
        "evidence); *w* (does not). Not judged (n/a: the paper gives nothing to compare with): *v*.")


def test_the_controls_changes_are_grouped_by_claim_with_their_seeds_per_regime():
    from records import control_run

    change = {"distance_shared": "holds -> no evidence"}
    rec = by_regime()
    rec = replace(rec, controls={"chosen": [control_run(0, changed=change), control_run(1, changed=change)],
                                 "paper_like": [control_run(0), control_run(2, changed=change)], "baseline": []})
    assert section.changed_by_controls(rec) == [
        "*trajectories closer within than between classes (shared)*: holds -> met by a control too (chosen regime: seeds 0, 1; "
        "paper-like regime: seed 2)"]
    assert section.changed_by_controls(replace(rec, controls={"chosen": [control_run(0)]})) == []
    assert "Seed verdicts the controls changed:\n\n- *trajectories" in section.render(rec, "link")


def test_accuracy_by_regime_reads_the_paired_difference_s_interval_against_the_paper_s_order():
    numbers = {"chosen": ([1.5, 1.6, 1.7], [1.4, 1.4, 1.5]),  # shared - separate: -0.1, -0.2, -0.2
               "paper_like": ([1.4, 1.4, 1.5], [1.5, 1.6, 1.7]),  # the reverse
               "baseline": ([1.5, 1.5, 1.5], [1.6, 1.4, 1.5])}  # +0.1, -0.1, 0: contains 0
    rec = replace(by_regime(), runs={name: seeds({"error_separate": sep, "error_shared": sh})
                                     for name, (sep, sh) in numbers.items()})
    text = section.accuracy_by_regime(rec)
    assert text.startswith("Test error per regime, mean [95 % interval] over the seeds (the paper: 1.4 % shared, "
                           "about 1.8 % separate).")
    assert "\n- chosen regime (3 seeds): separate 1.60 % [1.35, 1.85], shared 1.43 % " in text
    # -0.167 +- 4.303 * 0.0577 / sqrt(3) = [-0.31, -0.02]
    assert "shared minus separate -0.17 [-0.31, -0.02] points (shared lower, as in the paper)" in text
    assert "shared minus separate +0.17 [+0.02, +0.31] points (separate lower, the reverse of the paper)" in text
    assert text.endswith("shared minus separate +0.00 [-0.25, +0.25] points (the seeds cannot tell the two apart); "
                         "epoch-to-epoch swing separate 1.00 (0.00 to 2.00), shared 1.00 (0.00 to 2.00) points.")
    swung = replace(rec, runs={"baseline": seeds({"val_swing_separate": [0.6, 0.2, 0.3]})})
    assert "epoch-to-epoch swing separate 0.30 (0.20 to 0.60), shared" in section.accuracy_by_regime(swung)
    old = seeds()  # units computed before the swing was kept: no swing, no claim about it
    old = replace(old, runs=[replace(r, numbers={k: v for k, v in r.numbers.items() if "swing" not in k}) for r in old.runs])
    assert "; epoch-to-epoch swing" not in section.accuracy_by_regime(replace(rec, runs={"chosen": old}))
    one = replace(rec, runs={"chosen": seeds({"error_separate": [1.5], "error_shared": [1.4]}, n=1)})
    assert "(too few seeds to compare them)" in section.accuracy_by_regime(one)


def test_the_report_s_regimes_section_carries_both_summaries():
    from pathlib import Path

    from resdyn.run import report
    from resdyn.run.results import Results

    rec = by_regime()
    text = report.render(Results(by_regime=rec), report_dir=Path("paper"), figures_dir=Path("figures"))
    regimes = text[text.index("## Every claim in each regime"):text.index("## Appendix")]
    assert section.where_claims_hold(rec) in regimes and section.accuracy_by_regime(rec) in regimes
    assert section.where_claims_hold(rec) in section.render(rec, "link")


def test_the_epoch_swing_is_the_largest_change_between_consecutive_epochs_among_the_last_five():
    from resdyn.studies.sections.seeds import epoch_swing

    history = [{"val_acc": a} for a in (0.80, 0.95, 0.94, 0.96, 0.955, 0.97)]
    # the last five errors: 5, 6, 4, 4.5, 3 (%): changes 1, 2, 0.5, 1.5; the first epoch's 20 % is left out
    assert epoch_swing(history) == pytest.approx(2.0)
    assert epoch_swing(history, last=2) == pytest.approx(1.5)
    assert epoch_swing(history[:1]) is None  # one epoch: nothing to compare
