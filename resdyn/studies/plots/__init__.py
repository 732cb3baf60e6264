"""Plot helpers: each takes computed results and an optional ``ax``, and computes nothing.

All use seaborn's style and the colour-blind-safe palette (:mod:`resdyn.studies.style`); figures are saved
with :func:`resdyn.lib.writing.save_figure` (no timestamps, so identical runs give identical bytes).

- :mod:`resdyn.studies.plots.base`: helpers on arrays (layer profiles, heatmaps, embeddings, ...);
- :mod:`resdyn.studies.plots.paper`: one figure per paper section record (notebooks 00-04);
- :mod:`resdyn.studies.plots.study`: the seeds' and the studies' figures (notebooks 05-11);
- :mod:`resdyn.studies.plots.trace`: the trace study's models (notebook 11);
- :mod:`resdyn.studies.plots.regimes`: every claim in each regime, its controls, the interventions (notebooks 15-16);
- :mod:`resdyn.studies.plots.study1d`: the MNIST-1D study's figures (notebooks 12-14).
"""
from resdyn.studies.style import use_style
from resdyn.lib.writing import save_figure
from resdyn.studies.plots.base import (NEVER, class_colors, plot_class_distance_matrix, plot_depth_history,
                                       plot_distance_matrix, plot_embedding, plot_layer_profiles, plot_residual_heatmap)
from resdyn.studies.plots.paper import adaptive_depth, fig1a, fig1b, fig1c, fig1d, plot_grouped_ratios, regime_sweep
from resdyn.studies.plots.regimes import claims_by_regime, intervention, layer_ratios
from resdyn.studies.plots.study import depth, mechanism, precision, regime_map, seeds, toy_circles
from resdyn.studies.plots.trace import trace_models
from resdyn.studies.plots.study1d import adaptive_runs, criteria_comparison, depth_curves

__all__ = [
    "save_figure", "use_style", "NEVER", "class_colors", "plot_class_distance_matrix", "plot_depth_history",
    "plot_distance_matrix", "plot_embedding", "plot_layer_profiles", "plot_residual_heatmap",
    "adaptive_depth", "fig1a", "fig1b", "fig1c", "fig1d", "plot_grouped_ratios", "regime_sweep",
    "claims_by_regime", "depth", "intervention", "layer_ratios", "mechanism", "precision", "regime_map", "seeds", "toy_circles", "trace_models",
    "adaptive_runs", "criteria_comparison", "depth_curves",
]
