"""The seeds' and the studies' figures (05-11): each takes a section's record and draws it."""
from __future__ import annotations

import numpy as np
import seaborn as sns

from .. import claims
from ..claims import NETS
from ..experiment import DEPTH
from ..style import PALETTE
from .base import NEVER, _ax, _axes, class_colors, plot_depth_history
from ..sections.fig1ab import DEEP
from ..sections.seeds import METRICS
from ..sections.trace import CRITERIA


def seeds(rec, *, metrics=None, axes=None):
    """One point per seed for the headline numbers of a :class:`resdyn.sections.seeds.SeedsSection`, with the
    mean and its 95 % interval (a settling layer that never comes is drawn at T + 1)."""
    metrics = metrics or [m for m in METRICS if not m.startswith("adaptive_censored")]
    ncols = 6
    nrows = -(-len(metrics) // ncols)
    fig, axes = _axes(axes, nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows))
    for ax, m in zip(axes.flat, metrics):
        iv = rec.summary[m]
        never = NEVER if "layer" in m else None
        ys = [never if v is None else v for v in iv.values]
        ax.scatter(range(len(ys)), ys, color=class_colors(len(ys)), zorder=3)
        if iv.mean is not None:
            ax.axhline(iv.mean, color="0.3", lw=1)
        if iv.low is not None:
            ax.axhspan(iv.low, iv.high, color="0.85", zorder=0)
        ax.set_xticks(range(len(ys)), [str(s) for s in rec.seeds])
        ax.set_title(m, fontsize="small")
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    return fig


def mechanism(rec, *, nets=None, axes=None):
    """Layer by layer, for the main nets of a :class:`resdyn.sections.MechanismStudy`: the across-sample
    std relative to its peak, the saturated fraction, the sigmoid slope and ||W(t)|| relative to
    layer 1's; settling nets should line up with whichever mechanism produces it."""
    fig, axes = _axes(axes, 1, 4, figsize=(24, 4.8))
    names = nets or list(rec.dynamics)
    colors = sns.color_palette(PALETTE, len(names))
    for name, color in zip(names, colors):
        dyn = rec.dynamics[name]
        std, m = np.asarray(dyn.profile.std_profile), dyn.mechanism
        layers = np.arange(1, len(std) + 1)
        ls = "--" if name.startswith("untrained") else "-"
        axes[0].plot(layers, std / std.max(), ls=ls, color=color, marker="o", ms=3, label=name)
        axes[1].plot(layers, m.saturated, ls=ls, color=color, marker="o", ms=3)
        axes[2].plot(layers, m.slope, ls=ls, color=color, marker="o", ms=3)
        axes[3].plot(layers, np.asarray(m.weight_norm) / m.weight_norm[0], ls=ls, color=color, marker="o", ms=3)
    for ax, label in zip(axes, ("std across samples / its peak", "saturated fraction (y < 0.01 or > 0.99)",
                                "mean slope y (1 - y)", "||W(t)|| / ||W(1)||")):
        ax.set_xlabel("layer t")
        ax.set_ylabel(label)
    axes[0].legend(fontsize="small")
    return fig


def regime_map(rec, *, ax=None):
    """Test accuracy (validation where the test set was not read) against the Fig. 1B settling layer
    (T + 1 = never), one point per trained net, coloured by the deep layers' saturated fraction;
    circles: separate weights, squares: shared."""
    ax = _ax(ax)
    pts = [p for p in rec.points if p.group != "untrained"]
    x = [NEVER if p.std_layer is None else p.std_layer for p in pts]
    y = [100 * (p.test_acc if p.test_acc is not None else p.val_acc) for p in pts]
    c = [p.saturation for p in pts]
    for shared, marker in ((False, "o"), (True, "s")):
        idx = [i for i, p in enumerate(pts) if p.shared == shared]
        sc = ax.scatter([x[i] for i in idx], [y[i] for i in idx], c=[c[i] for i in idx], cmap="viridis", vmin=0, vmax=1,
                        marker=marker, s=45, edgecolors="0.2", linewidths=0.5,
                        label="shared weights" if shared else "separate weights")
    ax.axvline(claims.SETTLING_BY_LAYER + 0.5, color="0.4", ls="--", lw=1)
    ax.axhline(100 - claims.PAPER["error_separate"] - claims.ERROR.thresholds["holds"], color="0.6", ls=":", lw=1)
    ax.set_xticks(list(range(1, NEVER + 1, 2)) + [NEVER], [str(t) for t in range(1, NEVER + 1, 2)] + ["never"])
    ax.set_xlabel("Fig. 1B settling layer (std below 5 % of its peak)")
    ax.set_ylabel("accuracy (%): test, or validation for stage-1 nets")
    ax.set_ylim(max(min(y) - 2, 50), 100)
    ax.figure.colorbar(sc, ax=ax, label=f"saturated fraction, layers {DEEP}-{DEPTH}")
    ax.legend(fontsize="small")
    return ax.figure


def depth(rec, *, axes=None):
    """Accuracy against depth from scratch (both kinds of weights) with the adaptive runs' points;
    the compute of three ways to the adaptive depth; the final depth per adaptive budget."""
    fig, axes = _axes(axes, 1, 3, figsize=(20, 5))
    for net, color in zip(NETS, class_colors(2)):
        rows = [r for r in rec.curve if r.shared == (net == "shared")]
        axes[0].plot([r.depth for r in rows], [100 * r.test_acc for r in rows], marker="o", color=color, label=f"{net}, from scratch")
        a = rec.adaptive[net]
        axes[0].scatter([a.depth], [100 * a.test_acc], marker="*", s=200, color=color, edgecolors="0.2",
                        label=f"{net}, adaptive", zorder=3)
    axes[0].set_xlabel("depth T")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].legend(fontsize="small")
    axes[1].barh([c.method for c in rec.compute], [c.multiply_adds / 1e12 for c in rec.compute], color="0.6")
    axes[1].set_xlabel("training multiply-adds (1e12)")
    axes[1].set_title("training cost of a shared net of the adaptive depth")
    axes[2].bar([b.label for b in rec.budgets], [b.final_depth for b in rec.budgets],
                color=["0.75" if b.censored else "#0173b2" for b in rec.budgets])
    axes[2].set_ylabel("final depth (grey: censored)")
    axes[2].tick_params(axis="x", rotation=20)
    return fig


def precision(rec, *, ax=None):
    """For every number of a :class:`resdyn.sections.PrecisionStudy`: |bf16 - fp32| against the seed
    spread (bars below 1 are within the spread)."""
    ax = _ax(ax)
    rows = [r for r in rec.rows if r.difference is not None]
    ratio = [abs(r.difference) / r.spread if r.spread else (0.0 if r.difference == 0 else np.inf) for r in rows]
    ax.barh([r.metric for r in rows], np.minimum(ratio, 3), color=["#0173b2" if r.within else "#de8f05" for r in rows])
    ax.axvline(claims.PRECISION_SPREADS, color="0.3", ls="--", lw=1)
    ax.set_xlabel("|bf16 - fp32| / seed spread (capped at 3)")
    return ax.figure


def toy_circles(record, *, axes=None):
    """Depth and criterion per epoch (epoch 0: before training) of both adaptive runs of a
    :class:`resdyn.sections.toy.ToyCircles`, and the test points with each final net's decision boundary (when the
    record still holds them)."""
    fig, axes = _axes(axes, 1, 3, figsize=(18, 4.8))
    colors = class_colors(5)  # nets: blue, orange; classes: green, purple
    for ax, net, color in zip(axes[:2], NETS, colors):
        a = record.nets[net]
        plot_depth_history(list(range(len(a.depth) + 1)), [a.initial_depth, *a.depth],
                           [a.initial_criterion, *a.criterion], threshold=record.threshold, ax=ax, color=color,
                           title=f"{net} weights: depth and criterion")
    ax = axes[2]
    if record.points is None:
        ax.text(0.5, 0.5, "data not kept in this record", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    for c, color in zip((0, 1), (colors[2], colors[4])):
        pts = record.points[record.labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=4, color=color, label=f"class {c} ({'outer' if c == 0 else 'inner'})")
    for (net, pred), color, ls in zip(record.predictions.items(), colors, ("-", "--")):
        ax.contour(record.grid_x, record.grid_y, pred, levels=[0.5], colors=[color], linestyles=ls)
        ax.plot([], [], color=color, ls=ls, label=f"boundary, {net} ({record.nets[net].final_depth} layers)")
    ax.set_aspect("equal")
    ax.set_xlabel("x(0)$_1$")
    ax.set_ylabel("x(0)$_2$")
    ax.set_title("test points and the final nets' decision boundaries")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def _stage_bounds(ax, stages):
    """Dotted lines between a model's stages (at the transition layers)."""
    for i, b in enumerate(np.cumsum(stages)[:-1]):
        ax.axvline(b + 0.5, color="0.6", ls=":", lw=1, label="stage transition" if i == 0 else None)


def trace_models(record, *, axes=None):
    """One row per model of a :class:`resdyn.sections.trace.TraceStudy`: the across-sample std per layer
    relative to its peak (Fig. 1B) with the settling threshold and layer; every criterion of
    :mod:`resdyn.criteria` per layer; the accuracy with each block skipped alone, against the
    unlesioned model's (dashed). Dotted vertical lines: stage transitions."""
    names = list(record.models)
    fig, axes = _axes(axes, len(names), 3, figsize=(19, 4.2 * len(names)))
    axes = np.asarray(axes).reshape(len(names), 3)
    colors = sns.color_palette(PALETTE, len(CRITERIA))
    for row, name in zip(axes, names):
        m = record.models[name]
        layers = np.arange(1, m.depth + 1)
        std = np.asarray(m.std_profile)
        row[0].plot(layers, std / std.max(), marker="o", ms=3, color=colors[0], label="std / its peak")
        row[0].axhline(claims.SETTLING_FRACTION, color="0.5", ls="--", lw=1,
                       label=f"{100 * claims.SETTLING_FRACTION:g} % of the peak")
        if m.std_layer is not None:
            row[0].axvline(m.std_layer, color="0.3", ls="-.", lw=1, label=f"settles from layer {m.std_layer}")
        for key, color in zip(CRITERIA, colors):
            values = [np.nan if v is None else v for v in m.criteria[key]]
            row[1].plot(layers, values, marker="o", ms=3, color=color, label=CRITERIA[key])
        blocks = [r.block for r in m.lesion]
        row[2].bar(blocks, [100 * r.accuracy for r in m.lesion], color=colors[0])
        row[2].axhline(100 * m.accuracy, color="0.3", ls="--", lw=1, label="no block skipped")
        row[2].set_xticks(blocks)
        for ax in (row if len(m.lesion) == m.depth else row[:2]):
            _stage_bounds(ax, m.stages)
        for ax in row[:2]:
            ax.set_xticks(layers)
            ax.set_xlabel("layer t")
        row[0].set_ylabel("across-sample std / its peak")
        row[1].set_ylabel("criterion at layer t")
        row[2].set_xlabel("block skipped (lesion)")
        row[2].set_ylabel("accuracy on the samples (%)")
        row[0].set_title(f"{name} ({m.kind}, {m.depth} layers, stages {m.stages})")
        for ax in row:
            ax.legend(fontsize="small")
    return fig
