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


def test_a_plot_without_axes_draws_a_new_figure_not_into_the_current_one():
    from records import mechanism_study, regime_map

    first = plots.mechanism(mechanism_study())
    n_axes = len(first.axes)
    second = plots.regime_map(regime_map())
    assert second is not first and len(first.axes) == n_axes
    plt.close("all")


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
