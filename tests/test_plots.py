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
