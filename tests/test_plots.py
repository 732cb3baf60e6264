import hashlib

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from resdyn.studies import plots  # noqa: E402


def test_saved_figures_are_byte_stable(tmp_path):
    def draw(stem):
        plots.use_style()
        fig, axes = plt.subplots(1, 2)
        plots.plot_layer_profiles(np.random.default_rng(0).random((3, 5)), [0, 1, 2], ylabel="std", ax=axes[0],
                                  marker_layer=3, threshold=0.1)
        plots.plot_embedding(np.random.default_rng(1).random((30, 2)), np.repeat([0, 1, 2], 10), ax=axes[1])
        paths = plots.save_figure(fig, tmp_path / stem)
        plt.close(fig)
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]

    first, second = draw("a"), draw("b")
    assert first == second  # PNG and PDF: no timestamps, no version strings
    assert (tmp_path / "a.png").exists() and (tmp_path / "a.pdf").exists()


def test_plot_helpers_draw_on_the_given_axes():
    fig, ax = plt.subplots()
    out = plots.plot_embedding(np.zeros((4, 2)), [0, 0, 1, 1], ax=ax)
    assert out is ax and len(ax.collections) >= 1
    plt.close(fig)


def test_the_mechanism_figure_marks_the_paper_s_settling_layer_beside_the_rule():
    from records import mechanism_study

    from resdyn.core import claims

    fig = plots.mechanism(mechanism_study())
    std = _titled(fig, "Fig. 1B")[0]
    assert [ln.get_xdata()[0] for ln in std.lines if len(set(ln.get_xdata())) == 1] == [claims.PAPER["settling_layer"]]
    assert f"the paper's settling layer, about {claims.PAPER['settling_layer']}" in [
        t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)


def test_a_plot_without_axes_draws_a_new_figure_not_into_the_current_one():
    from records import mechanism_study, regime_map

    first = plots.mechanism(mechanism_study())
    n_axes = len(first.axes)
    second = plots.regime_map(regime_map())
    assert second is not first and len(first.axes) == n_axes
    plt.close("all")


# ----------------------------------------------------------------------------------------------
# The paper figures draw the paper's value beside ours

def _class_stats(n_cls=3, depth=15, width=4):
    import torch

    from resdyn.core.dynamics import ClassResidualStats

    g = torch.Generator().manual_seed(0)
    return ClassResidualStats(torch.arange(n_cls), torch.full((n_cls,), 5), torch.rand(n_cls, depth, width, generator=g),
                              torch.rand(n_cls, depth, width, generator=g))


def _fig1ab_record():
    """records.fig1ab with class statistics and a decaying change profile (separate: settles after layer 6)."""
    from dataclasses import replace

    import records
    from resdyn.core.claims import NETS

    rec = records.fig1ab()
    change = [0.5 ** t for t in range(14)]
    trained = {n: replace(d, profile=replace(d.profile, change_profile=change)) for n, d in rec.trained.items()}
    return replace(rec, trained=trained, class_stats={n: _class_stats() for n in NETS})


def _lines(ax, *, label=""):
    return [ln for ln in ax.get_lines() if label in str(ln.get_label())]


def _vline_at(ax, x, label):
    """The vertical lines of ``ax`` at ``x`` whose label contains ``label``."""
    return [ln for ln in _lines(ax, label=label) if set(np.atleast_1d(ln.get_xdata()).tolist()) == {x}]


def _hline_at(ax, y, label):
    return [ln for ln in _lines(ax, label=label) if set(np.atleast_1d(ln.get_ydata()).tolist()) == {y}]


def _titled(fig, text):
    return [ax for ax in fig.axes if text in ax.get_title()]


def test_fig1a_draws_the_change_of_the_class_means_with_the_rule_and_the_paper_layer():
    from resdyn.core.claims import NETS, PAPER, SETTLING_FRACTION

    rec = _fig1ab_record()
    fig = plots.fig1a(rec)
    for net in NETS:
        (ax,) = _titled(fig, f"{net} weights: class means")
        p, u = rec.trained[net].profile, rec.untrained[net].profile
        curves = [np.asarray(ln.get_ydata(), dtype=float).tolist() for ln in ax.get_lines()]
        assert p.change_profile in curves and u.change_profile in curves  # the statistic and its control
        assert _hline_at(ax, SETTLING_FRACTION * max(p.change_profile), "rule")
        assert _vline_at(ax, p.mean_layer, "ours")
        assert _vline_at(ax, PAPER["settling_layer"], "paper: layer ~6")
    assert "paper" in fig.get_suptitle()
    assert sum(len(ax.images) for ax in fig.axes) == 2 * 3  # the heat maps stay, one per net and class
    plt.close(fig)


def test_fig1b_marks_the_paper_layer_and_keeps_its_legends_off_the_curves():
    from resdyn.core.claims import PAPER

    fig = plots.fig1b(_fig1ab_record())
    assert fig.get_size_inches()[0] <= 16  # readable at 1,400 px: two rows, not four panels in one
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert len(panels) == 4
    for ax in panels:
        box, legend = ax.get_window_extent(), ax.get_legend().get_window_extent()
        assert legend.x0 >= box.x1 or legend.y1 <= box.y0, ax.get_title()  # outside the axes
    for ax in panels[:3]:  # both nets and the baseline nets
        assert _vline_at(ax, PAPER["settling_layer"], "paper")
    assert _vline_at(panels[0], 4, "ours")  # the record's separate net settles from layer 4
    plt.close(fig)


def test_fig1b_sensitivity_draws_four_distinguishable_series_and_the_paper_layer():
    from resdyn.core.claims import PAPER

    fig = plots.fig1b(_fig1ab_record())
    (ax,) = _titled(fig, "sensitivity")
    series = [ln for ln in ax.get_lines() if "1B std" in ln.get_label() or "1A means" in ln.get_label()]
    assert len(series) == 4
    # the record's first rule leaves every series at "never": none may hide another there
    assert len({float(ln.get_ydata()[0]) for ln in series}) == 4
    assert len({(ln.get_color(), ln.get_marker(), ln.get_linestyle(), str(ln.get_markerfacecolor()))
                for ln in series}) == 4
    assert _hline_at(ax, PAPER["settling_layer"], "paper")
    plt.close(fig)


def test_adaptive_depth_marks_the_paper_depth_and_accuracy():
    import records
    from resdyn.core.claims import PAPER

    fig = plots.adaptive_depth(records.adaptive())
    (shared,) = _titled(fig, "shared weights: depth")
    assert _hline_at(shared, PAPER["pruned_depth"], "paper: 5 layers")
    (lesion,) = _titled(fig, "lesion")
    assert _hline_at(lesion, 100 - PAPER["error_shared"], "paper")
    for net in ("separate", "shared"):
        (ax,) = _titled(fig, f"{net} weights: depth")
        assert f"paper, 15 layers: {PAPER[f'error_{net}']:.1f} %" in ax.get_title()
    plt.close(fig)


def test_regime_sweep_marks_its_axis_breaks_the_tolerance_and_the_paper_accuracy():
    import records
    from resdyn.core import claims
    from resdyn.studies.plots.base import AXIS_BREAK

    sweep = records.regime()
    fig = plots.regime_sweep(sweep)
    stage1, stage2 = fig.axes[:2]

    def starts_at_zero_or_is_marked(ax, lim):
        return lim == 0 or any(ln.get_gid() == AXIS_BREAK for ln in ax.get_lines())

    assert stage1.get_xlim()[0] > 0 and starts_at_zero_or_is_marked(stage1, stage1.get_xlim()[0])
    assert starts_at_zero_or_is_marked(stage2, stage2.get_ylim()[0])
    paper = 100 - claims.PAPER["error_separate"]
    assert _vline_at(stage1, paper, "paper") and _hline_at(stage2, paper, "paper")
    tolerance = claims.REGIME_DECISION.thresholds["tolerance"]
    (band,) = [p for p in stage2.patches if "tolerance" in str(p.get_label())]
    y = band.get_path().transformed(band.get_patch_transform()).vertices[:, 1]
    best = 100 * max(sweep.stage2.val_acc.values())
    assert np.isclose(y.max(), best) and np.isclose(y.max() - y.min(), tolerance)
    plt.close(fig)


def _fig1c_record():
    from dataclasses import replace

    import records
    import torch

    from resdyn.core.claims import NETS
    from resdyn.core.dynamics import trajectory_distances

    d = trajectory_distances(torch.randn(20, 3, 4, generator=torch.Generator().manual_seed(0)),
                             torch.arange(10).repeat_interleave(2))
    return replace(records.fig1c(), distances={n: d for n in NETS})


def _fig1d_record():
    from dataclasses import replace

    import records
    from resdyn.core.claims import NETS

    keys = ["raw"] + [f"{k}/{n}" for k in ("trained", "residual_sum", "untrained") for n in NETS]
    rng = np.random.default_rng(0)
    return replace(records.fig1d(), embeddings={k: rng.random((20, 2)) for k in keys}, labels=np.repeat(np.arange(10), 2))


def test_fig1c_and_fig1d_state_the_paper_claim():
    fig = plots.fig1c(_fig1c_record())
    assert "paper" in fig.get_suptitle() and "smaller within a class than between" in fig.get_suptitle()
    plt.close(fig)
    fig = plots.fig1d(_fig1d_record())
    assert "paper" in fig.get_suptitle() and "clusters" in fig.get_suptitle()
    # one class legend, outside the raw input's axes, so no legend covers an embedding's points
    with_legend = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert [ax.get_title().split("\n")[0] for ax in with_legend] == ["raw input x(0)", "separation of every embedding"]
    fig.canvas.draw()
    raw = with_legend[0]
    assert raw.get_legend().get_window_extent().x0 >= raw.get_window_extent().x1
    assert len(raw.get_legend().get_texts()) == 10 and raw.get_legend().get_title().get_text() == "class"
    plt.close(fig)


def test_paper_figures_are_readable_at_1400_pixels():
    """At most 20 inches wide (1,400 px: 70 px an inch), no text under 8 points (about 8 px there)."""
    import records

    from matplotlib.text import Text

    rec = _fig1ab_record()
    for fig in (plots.regime_sweep(records.regime()), plots.fig1a(rec), plots.fig1b(rec), plots.fig1c(_fig1c_record()),
                plots.fig1d(_fig1d_record()), plots.adaptive_depth(records.adaptive())):
        assert fig.get_size_inches()[0] <= 20
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
        assert min(sizes) >= 8, fig.get_suptitle()
        plt.close(fig)
def _overlap(a, b) -> bool:
    """Whether two window extents overlap by more than a pixel either way."""
    return a.x0 < b.x1 - 1 and b.x0 < a.x1 - 1 and a.y0 < b.y1 - 1 and b.y0 < a.y1 - 1


def _paper_lines(ax) -> set[float]:
    return {line.get_ydata()[0] for line in ax.lines if len(set(line.get_ydata())) == 1}


def test_the_regime_map_shows_every_point_the_paper_s_accuracies_and_a_legend_off_the_axes():
    from dataclasses import replace

    from records import regime_map

    from resdyn.core import claims

    rec = regime_map()
    rec = replace(rec, points=[replace(rec.points[0], val_acc=0.3), *rec.points[1:]])  # a net at 30 %
    fig = plots.regime_map(rec)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert low < 30 and high >= 100
    assert {100 - claims.PAPER["error_separate"], 100 - claims.PAPER["error_shared"]} <= _paper_lines(ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert not _overlap(ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer))
    plt.close(fig)


def test_the_depth_figure_marks_the_paper_s_accuracies_and_depth_and_its_legend_leaves_the_bars_free():
    from records import depth

    from resdyn.core import claims

    fig = plots.depth(depth())
    acc, _, budgets = fig.axes
    assert {100 - claims.PAPER["error_separate"], 100 - claims.PAPER["error_shared"]} <= _paper_lines(acc)
    assert claims.PAPER["pruned_depth"] in _paper_lines(budgets)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = budgets.get_legend().get_window_extent(renderer)
    assert not any(_overlap(legend, bar.get_window_extent(renderer)) for bar in budgets.patches)
    plt.close(fig)


def test_adaptive_runs_labels_do_not_overlap_and_identical_nets_are_said_so():
    from dataclasses import replace

    from records import adaptive1d

    rec = adaptive1d()
    runs = [replace(r, final_depth=15) for r in rec.runs]  # long labels: 15, 15, 15 under every family
    same = replace(rec.families["dense"], deep_acc=[90.0] * 3, scratch_acc=[90.0] * 3)  # the adaptive runs: 90 %
    rec = replace(rec, runs=runs, families={**rec.families, "dense": same})
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)  # narrower than the default
    plots.adaptive_runs(rec, axes=axes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        texts = [t for t in ax.get_xticklabels() + ax.texts if t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in texts] + [fig.legends[0].get_window_extent(renderer)]
        assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]), [t.get_text() for t in texts]
    ticks = [t.get_text() for t in axes[1].get_xticklabels()]
    assert ticks[0] == "dense\nall three\nidentical" and not any("identical" in t for t in ticks[1:])
    assert "no paper value (MNIST-1D)" in fig.get_suptitle()
    plt.close(fig)
