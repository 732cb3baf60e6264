"""Plot helpers on arrays: each takes what it draws and an optional ``ax``, and computes nothing."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from resdyn.studies.experiment import DEPTH
from resdyn.studies.style import PALETTE

#: Where a settling layer that never comes is drawn: one past the last layer.
NEVER = DEPTH + 1
#: How every figure draws a value of the paper: black and dash-dot, unlike our lines and the rules' lines.
PAPER_STYLE = {"color": "black", "ls": "-.", "lw": 1.6}
#: The :meth:`matplotlib.artist.Artist.get_gid` of the marks :func:`mark_axis_break` draws.
AXIS_BREAK = "axis-break"


def class_colors(n: int):
    return sns.color_palette(PALETTE, n)


def _ax(ax):
    """``ax``, or the axes of a new figure (never the current one: a script that draws two figures
    gets two)."""
    return plt.figure().gca() if ax is None else ax


def plot_layer_profiles(profiles, classes, *, ylabel: str, ax=None, marker_layer: int | None = None,
                        threshold: float | None = None, title: str | None = None, legend_title: str = "class",
                        marker_label: str | None = None):
    """One line per class of a per-layer quantity, e.g. :attr:`ClassResidualStats.layer_std`.

    Args:
        profiles: (C, T) array-like; classes: (C,) the legend entries, under ``legend_title``.
        marker_layer: draw a vertical line at this layer (1-based), e.g. the convergence layer, labelled
            ``marker_label`` (default "layer <marker_layer>").
        threshold: draw a horizontal line at this value.
    """
    ax = _ax(ax)
    profiles = np.asarray(profiles)
    layers = np.arange(1, profiles.shape[1] + 1)
    for color, c, p in zip(class_colors(len(profiles)), np.asarray(classes), profiles):
        ax.plot(layers, p, marker="o", ms=3, lw=1.5, color=color, label=str(c))
    if marker_layer is not None:
        ax.axvline(marker_layer, color="0.3", ls="--", lw=1, label=marker_label or f"layer {marker_layer}")
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
    sns.heatmap(np.asarray(class_mean), annot=True, fmt=".1f", annot_kws={"size": 8}, cmap="magma",
                xticklabels=list(np.asarray(classes)), yticklabels=list(np.asarray(classes)), square=True,
                cbar_kws={"label": "mean l2 distance"}, ax=ax)
    ax.set_xlabel("class")
    ax.set_ylabel("class")
    if title:
        ax.set_title(title)
    return ax


def plot_embedding(embedding, labels, *, ax=None, title: str | None = None, s: float = 4, legend: bool = True):
    """A 2-D embedding coloured by class, one legend entry per class inside the axes (``legend``; a figure
    of several embeddings draws one legend for all of them outside, where it hides no point)."""
    ax = _ax(ax)
    embedding, labels = np.asarray(embedding), np.asarray(labels)
    for color, c in zip(class_colors(len(np.unique(labels))), np.unique(labels)):
        m = labels == c
        ax.scatter(embedding[m, 0], embedding[m, 1], s=s, color=color, label=str(c), alpha=0.8, linewidths=0)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    if legend:
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


def depth_history_legend(ax, *, color, threshold: float | None = None, loc: str = "lower left", extra=(), **kw):
    """The legend of :func:`plot_depth_history`'s three line styles, on ``ax`` (its right axis),
    followed by the ``extra`` handles (e.g. a paper value drawn on the left axis); ``kw`` goes to
    :meth:`matplotlib.axes.Axes.legend` (e.g. ``bbox_to_anchor`` to place it outside the axes)."""
    handles = [Line2D([], [], color=color, marker="o", ms=3, label="depth T (left axis, solid)"),
               Line2D([], [], color=color, ls="--", marker="x", ms=3, label="criterion (right axis, dashed)")]
    if threshold is not None:
        handles.append(Line2D([], [], color="0.4", ls=":", lw=1, label=f"threshold {threshold:g} (dotted)"))
    ax.legend(handles=handles + list(extra), loc=loc, **{"fontsize": "x-small"} | kw)


def paper_line(ax, value: float, *, label: str, vertical: bool = True):
    """A line at the paper's ``value`` in :data:`PAPER_STYLE`, so that the paper's number sits beside
    ours; ``label`` (e.g. "paper: layer ~6") names it in the legend. Vertical marks an x value."""
    draw = ax.axvline if vertical else ax.axhline
    return draw(value, label=label, zorder=3, **PAPER_STYLE)


def legend_outside(ax, *, handles=None, title: str | None = None, below: bool = False, ncols: int = 1):
    """The legend of ``ax`` right of its axes (or below them), where it hides no curve."""
    kw = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.14)} if below else \
        {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
    if handles is not None:
        kw["handles"] = handles
    return ax.legend(title=title, fontsize="small", ncols=ncols, frameon=True, borderaxespad=0, **kw)


def mark_axis_break(ax, *, axis: str = "x"):
    """Two slashes across the start of the ``axis`` spine: that axis does not start at 0, so the bars'
    lengths are not proportional to their values. The marks carry the gid :data:`AXIS_BREAK`."""
    at = (0.012, 0.03)
    xy = (at, (0, 0)) if axis == "x" else ((0, 0), at)
    ax.plot(*xy, transform=ax.transAxes, ls="none", marker=[(-1, -1.6), (1, 1.6)], ms=11, mew=1.6, color="black",
            clip_on=False, zorder=5, gid=AXIS_BREAK)


def _axes(axes, nrows, ncols, **kw):
    if axes is not None:
        return axes[0].figure if np.ndim(axes) == 1 else axes.flat[0].figure, axes
    return plt.subplots(nrows, ncols, constrained_layout=True, **kw)
