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


#: Figures shown inline (executed notebooks) at screen resolution; saved figures set their own dpi.
SCREEN_DPI = 72


def use_style() -> None:
    """seaborn's whitegrid style, colour-blind palette, a readable font size, screen resolution inline."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    matplotlib.rcParams["figure.dpi"] = SCREEN_DPI


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
    s1 = sorted((r for r in sweep.table if not r.shared), key=lambda r: r.val_acc)
    colors = [blue if r.key == "chosen" else orange if r.key == "baseline" else "0.6" for r in s1]
    axes[0].barh([r.name for r in s1], [100 * r.val_acc for r in s1], color=colors)
    axes[0].set_xlim(max(0, 100 * min(r.val_acc for r in s1) - 5), 100)
    axes[0].set_xlabel(f"validation accuracy (%) after {sweep.epochs} epoch(s) on {sweep.n_train} samples")
    axes[0].set_title("stage 1: one change at a time (separate weights, 15 layers)")
    s2 = sweep.stage2
    keys = ["chosen", s2.runner_up]
    axes[1].bar(["chosen regime", sweep.row(s2.runner_up).name], [100 * s2.val_acc[k] for k in keys],
                color=[blue, "0.6"])
    axes[1].set_ylim(min(100 * s2.val_acc[k] for k in keys) - 1, 100)
    axes[1].set_ylabel(f"validation accuracy (%) after {s2.epochs} epochs, all samples")
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
    """Fig. 1B: per net, the across-sample std of each class per layer with its settling layer and
    5 % of its peak, and the untrained net's profile (dashed, the control); the baseline nets'
    profiles; and the settling layer as a function of the rule (sensitivity)."""
    fig, axes = _axes(axes, 1, 4, figsize=(24, 4.8))
    for ax, net in zip(axes, NETS):
        s, p = rec.class_stats[net], rec.trained[net].profile
        plot_layer_profiles(s.layer_std, s.classes, ylabel="std of residuals across samples", ax=ax,
                            marker_layer=p.std_layer, threshold=0.05 * max(p.std_profile),
                            title=f"{net} weights, chosen regime")
        u = rec.untrained[net].profile.std_profile
        ax.plot(np.arange(1, len(u) + 1), u, color="0.2", ls="--", lw=1.5, label="untrained (mean)")
        ax.legend(title="class", fontsize="small", ncols=2, frameon=True)
    profiles = np.stack([np.asarray(rec.baseline[n].dynamics.profile.std_profile) for n in NETS])
    plot_layer_profiles(profiles, list(NETS), ylabel="std of residuals across samples", ax=axes[2],
                        legend_title="weights", title="baseline regime (notebook 00, stage 1)")
    ax = axes[3]
    for color, net in zip(class_colors(2), NETS):
        sens = rec.trained[net].profile.sensitivity
        never = len(rec.trained[net].profile.std_profile) + 1
        for key, ls in (("std_layer", "-"), ("mean_layer", ":")):
            layers = [never if v is None else v for v in getattr(sens, key)]
            ax.plot([100 * f for f in sens.fractions], layers, marker="o", ms=3, ls=ls, color=color,
                    label=f"{net}, {'1B std' if key == 'std_layer' else '1A means'}")
        ax.axhline(never, color="0.6", lw=0.8)
    ax.axhline(7, color="0.3", ls="--", lw=1, label="layer 7 (the rule)")
    ax.set_xlabel("rule: % of the peak")
    ax.set_ylabel(f"settling layer ({never} = never)")
    ax.set_title("sensitivity to the rule")
    ax.legend(fontsize="small")
    return fig


def fig1c(rec, *, axes=None):
    """Fig. 1C: per net, the sample distance matrix, its class averages, and the within/between ratio
    per class beside the controls' (untrained net, raw input)."""
    fig, axes = _axes(axes, 2, 3, figsize=(17, 10), gridspec_kw={"width_ratios": [1.2, 1, 0.8]})
    for row, net in enumerate(NETS):
        d = rec.distances[net]
        plot_distance_matrix(d.distances, d.labels, ax=axes[row, 0], title=f"{net}: sample distances")
        plot_class_distance_matrix(d.class_mean, d.classes, ax=axes[row, 1], title=f"{net}: class means")
        ratios = {"trained": rec.trained[net].ratio, "untrained": rec.untrained[net].ratio, "raw input": rec.raw.ratio}
        plot_grouped_ratios(ratios, rec.classes, ax=axes[row, 2], title=f"{net}: within / between")
    return fig


def plot_grouped_ratios(ratios: dict, classes, *, ax=None, title: str | None = None):
    """Bars of the within/between ratio per class, one group per class, one bar per set of trajectories."""
    ax = _ax(ax)
    names, x = list(ratios), np.arange(len(classes))
    width = 0.8 / len(names)
    for i, (name, color) in enumerate(zip(names, ["#0173b2", "0.55", "0.8"])):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, ratios[name], width, color=color, label=name)
    ax.axhline(1.0, color="0.3", ls="--", lw=1)
    ax.set_xticks(x, [str(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("within / between distance")
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def fig1d(rec, *, axes=None):
    """Fig. 1D: t-SNE of x(T) per net, beside the controls: sum of y (the net's own contribution),
    the untrained net's x(T), and the raw input x(0)."""
    fig, axes = _axes(axes, 2, 4, figsize=(24, 11))
    sep = {f"trained/{n}": rec.trained[n] for n in NETS} | {f"residual_sum/{n}": rec.residual_sum[n] for n in NETS} \
        | {f"untrained/{n}": rec.untrained[n] for n in NETS} | {"raw": rec.raw}
    titles = {"trained": "x(T)", "residual_sum": "sum of y(t) = x(T) - x(0)", "untrained": "x(T), untrained"}
    for row, net in enumerate(NETS):
        for col, kind in enumerate(("trained", "residual_sum", "untrained")):
            key, s = f"{kind}/{net}", sep[f"{kind}/{net}"]
            plot_embedding(rec.embeddings[key], rec.labels, ax=axes[row, col],
                           title=f"{net}: {titles[kind]}\nkNN {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}")
    plot_embedding(rec.embeddings["raw"], rec.labels, ax=axes[0, 3],
                   title=f"raw input x(0)\nkNN {rec.raw.knn_accuracy:.3f}, silhouette {rec.raw.silhouette:.2f}")
    ax = axes[1, 3]
    names = list(sep)
    ax.barh(names, [sep[n].silhouette for n in names], color=["#0173b2" if n.startswith("trained") else "0.6" for n in names])
    ax.axvline(0.3, color="0.3", ls="--", lw=1)
    ax.set_xlabel("silhouette")
    ax.set_title("separation of every embedding")
    return fig


def adaptive_depth(rec, *, axes=None):
    """Depth and criterion per epoch (epoch 0: before training) of both adaptive runs; the criterion
    between successive layers of the trained 15-layer nets; the lesion of the unpruned shared net."""
    fig, axes = _axes(axes, 1, 4, figsize=(24, 4.8))
    colors = class_colors(2)
    for ax, net, color in zip(axes[:2], NETS, colors):
        a = rec.nets[net]
        h = [{"epoch": 0, "depth": a.initial_depth, "criterion": a.initial_criterion}] + a.history
        plot_depth_history([r["epoch"] for r in h], [r["depth"] for r in h], [r["criterion"] for r in h],
                           threshold=rec.threshold, ax=ax, color=color,
                           title=f"{net} weights: depth and criterion{' (censored)' if a.censored else ''}")
    ax = axes[2]
    for net, color in zip(NETS, colors):
        c = rec.profiles[net].criterion
        ax.plot(range(2, len(c) + 2), c, marker="o", ms=3, color=color, label=f"{net} (stops at {rec.profiles[net].stop_depth})")
    ax.axhline(rec.threshold, color="0.4", ls=":", lw=1, label="threshold")
    ax.set_yscale("log")
    ax.set_xlabel("layer t")
    ax.set_ylabel("c(t) = mean |y(t) - y(t-1)|")
    ax.set_title("criterion between successive layers, trained 15-layer nets")
    ax.legend(fontsize="small")
    ax = axes[3]
    depths = [r.depth for r in rec.lesion]
    ax.plot(depths, [100 * r.val_acc for r in rec.lesion], marker="o", color=colors[0], label="cut")
    ax.plot(depths, [100 * r.val_acc_folded for r in rec.lesion], marker="s", color=colors[1], ls="--",
            label="cut, residuals folded into bias")
    ax.set_xlabel("depth kept")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("lesion of the trained 15-layer shared net")
    ax.legend()
    return fig


# ----------------------------------------------------------------------------------------------
# Seeds and studies


def seeds(rec, *, metrics=None, axes=None):
    """One point per seed for the headline numbers of a :class:`resdyn.seeds.SeedsSection`, with the
    mean and its 95 % interval (a settling layer that never comes is drawn at T + 1)."""
    from .seeds import METRICS

    metrics = metrics or [m for m in METRICS if not m.startswith("adaptive_censored")]
    ncols = 6
    nrows = -(-len(metrics) // ncols)
    fig, axes = _axes(axes, nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows))
    for ax, m in zip(axes.flat, metrics):
        iv = rec.summary[m]
        never = 16 if "layer" in m else None
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
    """Layer by layer, for the main nets of a :class:`resdyn.study.MechanismStudy`: the across-sample
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
    x = [16 if p.std_layer is None else p.std_layer for p in pts]
    y = [100 * (p.test_acc if p.test_acc is not None else p.val_acc) for p in pts]
    c = [p.saturation for p in pts]
    for shared, marker in ((False, "o"), (True, "s")):
        idx = [i for i, p in enumerate(pts) if p.shared == shared]
        sc = ax.scatter([x[i] for i in idx], [y[i] for i in idx], c=[c[i] for i in idx], cmap="viridis", vmin=0, vmax=1,
                        marker=marker, s=45, edgecolors="0.2", linewidths=0.5,
                        label="shared weights" if shared else "separate weights")
    ax.axvline(7.5, color="0.4", ls="--", lw=1)
    ax.axhline(100 - 1.8 - 0.3, color="0.6", ls=":", lw=1)
    ax.set_xticks(list(range(1, 17, 2)) + [16], [str(t) for t in range(1, 17, 2)] + ["never"])
    ax.set_xlabel("Fig. 1B settling layer (std below 5 % of its peak)")
    ax.set_ylabel("accuracy (%): test, or validation for stage-1 nets")
    ax.set_ylim(max(min(y) - 2, 50), 100)
    ax.figure.colorbar(sc, ax=ax, label="saturated fraction, layers 7-15")
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
    """For every number of a :class:`resdyn.study.PrecisionStudy`: |bf16 - fp32| against the seed
    spread (bars below 1 are within the spread)."""
    ax = _ax(ax)
    rows = [r for r in rec.rows if r.difference is not None]
    ratio = [abs(r.difference) / r.spread if r.spread else (0.0 if r.difference == 0 else np.inf) for r in rows]
    ax.barh([r.metric for r in rows], np.minimum(ratio, 3), color=["#0173b2" if r.within else "#de8f05" for r in rows])
    ax.axvline(1.0, color="0.3", ls="--", lw=1)
    ax.set_xlabel("|bf16 - fp32| / seed spread (capped at 3)")
    return ax.figure


def toy_circles(record, *, axes=None):
    """Depth and criterion per epoch (epoch 0: before training) of both adaptive runs of a
    :class:`resdyn.toy.ToyCircles`, and the test points with each final net's decision boundary (when the
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
