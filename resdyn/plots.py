"""Plot helpers: each takes computed results and an optional ``ax``, and computes nothing.

All use seaborn's style and the colour-blind-safe palette; :func:`save_figure` writes PNG and PDF
without timestamps, so identical runs give identical bytes.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.rcParams["svg.hashsalt"] = "resdyn"
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

PALETTE = "colorblind"


def use_style() -> None:
    """seaborn's whitegrid style, colour-blind palette and a readable font size."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)


def class_colors(n: int):
    return sns.color_palette(PALETTE, n)


def _ax(ax):
    return plt.gca() if ax is None else ax


def plot_layer_profiles(profiles, classes, *, ylabel: str, ax=None, marker_layer: int | None = None,
                        threshold: float | None = None, title: str | None = None, legend_title: str = "class"):
    """One line per class of a per-layer quantity, e.g. :attr:`ClassResidualStats.layer_std`.

    Args:
        profiles: (C, T) array-like; classes: (C,) the legend entries, under ``legend_title``.
        marker_layer: draw a vertical line at this layer (1-based), e.g. the convergence layer.
        threshold: draw a horizontal line at this value.
    """
    ax = _ax(ax)
    profiles = np.asarray(profiles)
    layers = np.arange(1, profiles.shape[1] + 1)
    for color, c, p in zip(class_colors(len(profiles)), np.asarray(classes), profiles):
        ax.plot(layers, p, marker="o", ms=3, lw=1.5, color=color, label=str(c))
    if marker_layer is not None:
        ax.axvline(marker_layer, color="0.3", ls="--", lw=1, label=f"layer {marker_layer}")
    if threshold is not None:
        ax.axhline(threshold, color="0.5", ls=":", lw=1, label="5 % of peak")
    ax.set_xlabel("layer t")
    ax.set_ylabel(ylabel)
    ax.set_xticks(layers)
    ax.legend(title=legend_title, fontsize="small", ncols=2, frameon=True)
    if title:
        ax.set_title(title)
    return ax


def plot_residual_heatmap(values, *, ax=None, title: str | None = None, cmap: str = "viridis",
                          vmin=None, vmax=None, colorbar: bool = True):
    """A (T, N) map of a residual statistic for one class: neurons (x-axis) by layer (y-axis)."""
    ax = _ax(ax)
    values = np.asarray(values)
    im = ax.imshow(values, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax,
                   extent=(0, values.shape[1], values.shape[0] + 0.5, 0.5))
    ax.set_xlabel("neuron")
    ax.set_ylabel("layer t")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(False)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.05)
    return ax


def plot_distance_matrix(distances, labels, *, ax=None, title: str | None = None, cmap: str = "magma"):
    """The (n, n) distance matrix, samples ordered by class, with class boundaries drawn."""
    ax = _ax(ax)
    labels = np.asarray(labels)
    im = ax.imshow(np.asarray(distances), cmap=cmap, interpolation="nearest")
    bounds = np.flatnonzero(np.diff(labels)) + 0.5
    for b in bounds:
        ax.axhline(b, color="white", lw=0.6)
        ax.axvline(b, color="white", lw=0.6)
    edges = np.concatenate([[-0.5], bounds, [len(labels) - 0.5]])
    centres = (edges[:-1] + edges[1:]) / 2
    ax.set_xticks(centres, [str(c) for c in labels[np.r_[0, (bounds + 0.5).astype(int)]]])
    ax.set_yticks(centres, [str(c) for c in labels[np.r_[0, (bounds + 0.5).astype(int)]]])
    ax.grid(False)
    ax.set_xlabel("sample (by class)")
    ax.set_ylabel("sample (by class)")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label="l2 distance")
    if title:
        ax.set_title(title)
    return ax


def plot_class_distance_matrix(class_mean, classes, *, ax=None, title: str | None = None):
    """The (C, C) class-averaged distance matrix with its values written in."""
    ax = _ax(ax)
    sns.heatmap(np.asarray(class_mean), annot=True, fmt=".1f", annot_kws={"size": 7}, cmap="magma",
                xticklabels=list(np.asarray(classes)), yticklabels=list(np.asarray(classes)), square=True,
                cbar_kws={"label": "mean l2 distance"}, ax=ax)
    ax.set_xlabel("class")
    ax.set_ylabel("class")
    if title:
        ax.set_title(title)
    return ax


def plot_ratios(ratios, classes, *, ax=None, title: str | None = None):
    """A bar per class of the within/between distance ratio, with the line at 1."""
    ax = _ax(ax)
    ax.bar([str(c) for c in np.asarray(classes)], np.asarray(ratios), color=class_colors(len(ratios)))
    ax.axhline(1.0, color="0.3", ls="--", lw=1)
    ax.set_xlabel("class")
    ax.set_ylabel("within / between distance")
    if title:
        ax.set_title(title)
    return ax


def plot_embedding(embedding, labels, *, ax=None, title: str | None = None, s: float = 4):
    """A 2-D embedding coloured by class, one legend entry per class."""
    ax = _ax(ax)
    embedding, labels = np.asarray(embedding), np.asarray(labels)
    for color, c in zip(class_colors(len(np.unique(labels))), np.unique(labels)):
        m = labels == c
        ax.scatter(embedding[m, 0], embedding[m, 1], s=s, color=color, label=str(c), alpha=0.8, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.legend(title="class", markerscale=3, fontsize="small", ncols=2, loc="best", frameon=True)
    if title:
        ax.set_title(title)
    return ax


def plot_depth_history(epochs, depths, criteria, *, threshold: float | None = None, ax=None,
                       title: str | None = None, label: str | None = None, color=None):
    """Depth (left axis, solid) and the pruning criterion (right axis, log, dashed) per epoch."""
    ax = _ax(ax)
    color = color or class_colors(1)[0]
    ax.step(epochs, depths, where="post", color=color, marker="o", ms=3, label=f"depth{'' if label is None else ' ' + label}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("depth T")
    ax.set_ylim(0.5, max(depths) + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2 = ax.twinx()
    ax2.plot(epochs, criteria, color=color, ls="--", marker="x", ms=3, label=f"criterion{'' if label is None else ' ' + label}")
    if threshold is not None:
        ax2.axhline(threshold, color="0.4", ls=":", lw=1, label="threshold")
    ax2.set_yscale("log")
    ax2.set_ylabel("mean |y(T) - y(T-1)|")
    ax2.grid(False)
    if title:
        ax.set_title(title)
    return ax, ax2


def save_figure(fig, stem: str | Path, *, dpi: int = 150) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf with no timestamps or software versions in them."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    fig.savefig(png, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(pdf, bbox_inches="tight", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    return [png, pdf]


# ----------------------------------------------------------------------------------------------
# The notebooks' figures: each takes a section's record (see resdyn.paper) and draws it.

NETS = ("separate", "shared")


def _axes(axes, nrows, ncols, **kw):
    if axes is not None:
        return axes[0].figure if np.ndim(axes) == 1 else axes.flat[0].figure, axes
    return plt.subplots(nrows, ncols, constrained_layout=True, **kw)


def regime_sweep(sweep, *, axes=None):
    """Stage 1 (separate weights, best last) and stage 2 of a :class:`resdyn.paper.RegimeSweep`."""
    fig, axes = _axes(axes, 1, 2, figsize=(14, 6), gridspec_kw={"width_ratios": [2, 1]})
    blue, orange = class_colors(2)
    s1 = sorted((r for r in sweep.table if not r.shared), key=lambda r: r.test_acc)
    colors = [blue if r.key == "chosen" else orange if r.key == "baseline" else "0.6" for r in s1]
    axes[0].barh([r.name for r in s1], [100 * r.test_acc for r in s1], color=colors)
    axes[0].set_xlim(max(0, 100 * min(r.test_acc for r in s1) - 5), 100)
    axes[0].set_xlabel(f"test accuracy (%) after {sweep.epochs} epoch(s) on {sweep.n_train} samples")
    axes[0].set_title("stage 1: one change at a time (separate weights, 15 layers)")
    s2 = sweep.stage2
    keys = ["chosen", s2.runner_up]
    axes[1].bar(["chosen regime", sweep.row(s2.runner_up).name], [100 * s2.test_acc[k] for k in keys],
                color=[blue, "0.6"])
    axes[1].set_ylim(min(100 * s2.test_acc[k] for k in keys) - 1, 100)
    axes[1].set_ylabel(f"test accuracy (%) after {s2.epochs} epochs, all samples")
    axes[1].set_title("stage 2: full length")
    axes[1].tick_params(axis="x", rotation=15)
    return fig


def fig1a(rec, *, axes=None):
    """Fig. 1A: per class and net, the class-mean residual of each neuron (x) at each layer (y), from
    :attr:`resdyn.paper.Fig1AB.class_stats`; colours end at the 99th percentile of all values."""
    stats = rec.class_stats
    n_cls = len(stats["separate"].classes)
    import torch

    vmax = float(torch.quantile(torch.cat([stats[n].mean.flatten() for n in NETS]), 0.99))
    fig, axes = _axes(axes, 2, n_cls, figsize=(2.0 * n_cls, 6), sharey=True)
    for row, net in enumerate(NETS):
        for k in range(n_cls):
            plot_residual_heatmap(stats[net].mean[k], ax=axes[row, k], vmin=0, vmax=vmax, colorbar=False,
                                  title=f"{net}: class {int(stats[net].classes[k])}")
            if k:
                axes[row, k].set_ylabel("")
    fig.colorbar(axes[0, 0].images[0], ax=axes, fraction=0.02, label="class-mean residual y")
    return fig


def fig1b(rec, *, axes=None):
    """Fig. 1B: per net, the across-sample std of each class per layer, its settling layer and 5 % of its
    peak; and the class-averaged profile of the baseline nets."""
    fig, axes = _axes(axes, 1, 3, figsize=(18, 4.5))
    for ax, net in zip(axes, NETS):
        s, p = rec.class_stats[net], rec.profiles[net]
        plot_layer_profiles(s.layer_std, s.classes, ylabel="std of residuals across samples", ax=ax,
                            marker_layer=p.std_layer, threshold=0.05 * max(p.std_profile),
                            title=f"{net} weights, chosen regime")
    profiles = np.stack([np.asarray(rec.baseline[n].std_profile) for n in NETS])
    plot_layer_profiles(profiles, list(NETS), ylabel="std of residuals across samples", ax=axes[2],
                        legend_title="weights", title="baseline regime (notebook 00, stage 1)")
    return fig


def fig1c(rec, *, axes=None):
    """Fig. 1C: per net, the sample distance matrix, its class averages and the within/between ratios."""
    fig, axes = _axes(axes, 2, 3, figsize=(17, 10), gridspec_kw={"width_ratios": [1.2, 1, 0.8]})
    for row, net in enumerate(NETS):
        d = rec.distances[net]
        plot_distance_matrix(d.distances, d.labels, ax=axes[row, 0], title=f"{net}: sample distances")
        plot_class_distance_matrix(d.class_mean, d.classes, ax=axes[row, 1], title=f"{net}: class means")
        plot_ratios(d.ratio, d.classes, ax=axes[row, 2], title=f"{net}: within / between")
    return fig


def fig1d(rec, *, axes=None):
    """Fig. 1D: the t-SNE embedding of x(T) per net, coloured by class."""
    fig, axes = _axes(axes, 1, 2, figsize=(13, 6))
    for ax, net in zip(axes, NETS):
        s = rec.separation[net]
        plot_embedding(rec.embeddings[net], rec.labels, ax=ax,
                       title=f"{net} weights: kNN acc {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}")
    return fig


def adaptive_depth(rec, *, axes=None):
    """Depth and criterion per epoch of both adaptive runs, and the lesion of the unpruned shared net."""
    fig, axes = _axes(axes, 1, 3, figsize=(18, 4.8))
    colors = class_colors(2)
    for ax, net, color in zip(axes[:2], NETS, colors):
        h = rec.nets[net].history
        plot_depth_history([r["epoch"] for r in h], [r["depth"] for r in h], [r["criterion"] for r in h],
                           threshold=rec.threshold, ax=ax, color=color, title=f"{net} weights: depth and criterion")
    ax = axes[2]
    depths = [r.depth for r in rec.lesion]
    ax.plot(depths, [100 * r.test_acc for r in rec.lesion], marker="o", color=colors[0], label="cut")
    ax.plot(depths, [100 * r.test_acc_folded for r in rec.lesion], marker="s", color=colors[1], ls="--",
            label="cut, residuals folded into bias")
    ax.set_xlabel("depth kept")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("lesion of the trained 15-layer shared net")
    ax.legend()
    return fig
