"""The paper notebooks' figures (00-04): each takes a section's record and draws it.

Every figure draws the paper's value beside ours (:func:`resdyn.studies.plots.base.paper_line`, black
dash-dot, labelled "paper: ..."), or names the paper's claim in its title where the claim has no number.
The paper's numbers come from :data:`resdyn.core.claims.PAPER` and the rules' ``paper`` texts."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from resdyn.core import claims
from resdyn.core.claims import NETS, PAPER, SETTLING_FRACTION
from resdyn.studies.plots.base import (PAPER_STYLE, _ax, _axes, class_colors, depth_history_legend, legend_outside,
                                       mark_axis_break, paper_line, plot_class_distance_matrix, plot_depth_history,
                                       plot_distance_matrix, plot_embedding, plot_layer_profiles,
                                       plot_residual_heatmap)

#: The paper's settling layer as the figures label it.
PAPER_LAYER = f"paper: layer ~{PAPER['settling_layer']}"
#: How far apart (in layers) the sensitivity panel draws its four series, so that equal values stay visible.
SERIES_OFFSET = 0.2


def paper_accuracy(net: str) -> float:
    """The paper's test accuracy (%) of the 15-layer ``net``: 100 minus its test error."""
    return 100 - PAPER[f"error_{net}"]


def _accuracy_axis(ax, axis: str, start: float, label: str):
    """An accuracy ``axis`` ("x" or "y") from ``start`` to 100 %, labelled; one that starts above 0 carries
    the axis-break marks and says where it starts."""
    getattr(ax, f"set_{axis}lim")(start, 100)
    if start > 0:
        mark_axis_break(ax, axis=axis)
        label += f"\naxis starts at {start:.1f} %, not 0 (break marks)"
    getattr(ax, f"set_{axis}label")(label)


def regime_sweep(sweep, *, axes=None):
    """Stage 1 (separate weights, best last) and stage 2 of a :class:`resdyn.studies.sections.RegimeSweep`.

    An accuracy axis that starts near the values, not at 0, carries the axis-break marks. Stage 2
    shades the check's tolerance below the best bar. Both panels mark the paper's test accuracy of the
    separate net (100 minus its error; a test number beside our validation ones, for scale)."""
    fig, axes = _axes(axes, 1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [2, 1]})
    blue, orange = class_colors(2)
    paper_acc = paper_accuracy("separate")
    paper_label = f"paper: {paper_acc:.1f} % (test, separate weights, full training)"
    ax = axes[0]
    s1 = sorted((r for r in sweep.table if not r.shared), key=lambda r: r.val_acc)
    colors = [blue if r.key == "chosen" else orange if r.key == "baseline" else "0.6" for r in s1]
    ax.barh([r.name for r in s1], [100 * r.val_acc for r in s1], color=colors)
    paper_line(ax, paper_acc, label=paper_label)
    _accuracy_axis(ax, "x", max(0, 100 * min(r.val_acc for r in s1) - 5),
                   f"validation accuracy (%) after {sweep.epochs} epoch(s) on {sweep.n_train} samples")
    ax.set_title("stage 1: one change at a time (separate weights, 15 layers)")
    ax.legend(handles=[Patch(color=blue, label="chosen regime"), Patch(color=orange, label="baseline regime"),
                       Patch(color="0.6", label="other variants"), Line2D([], [], label=paper_label, **PAPER_STYLE)],
              fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=True)
    ax = axes[1]
    s2 = sweep.stage2
    keys = ["chosen", s2.runner_up]
    values = [100 * s2.val_acc[k] for k in keys]
    ax.bar(["chosen regime", sweep.row(s2.runner_up).name], values, color=[blue, "0.6"])
    tolerance = claims.REGIME_DECISION.thresholds["tolerance"]
    best = max(values)
    ax.axhspan(best - tolerance, best, color="#029e73", alpha=0.35, lw=0, zorder=0.6,
               label=f"within {tolerance:g} points of the best (the check's tolerance)")
    paper_line(ax, paper_acc, label=f"paper: {paper_acc:.1f} % (test)", vertical=False)
    _accuracy_axis(ax, "y", max(0, min(values + [paper_acc]) - 1),
                   f"validation accuracy (%) after {s2.epochs} epochs, all samples")
    ax.set_title("stage 2: full length")
    ax.tick_params(axis="x", rotation=15)
    legend_outside(ax, below=True)
    return fig


def _fig1a_axes(axes, n_cls):
    """The figure, its two profile axes and its (2, n_cls) heat-map axes; ``axes`` given: 2 + 2 * n_cls axes."""
    if axes is not None:
        flat = np.ravel(axes)
        return flat[0].figure, flat[0].figure, flat[:2], np.reshape(flat[2:], (2, n_cls))
    fig = plt.figure(figsize=(16, 11), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    return fig, bottom, top.subplots(1, 2), bottom.subplots(2, n_cls, sharey=True)


def fig1a(rec, *, axes=None):
    """Fig. 1A. Top, per net: the change of the class-mean residuals from layer t to t+1 (the
    ``change_profile`` the 1A rule judges), the rule's threshold and settling layer, the untrained net's
    profile (dashed, the control) and the paper's layer ~6. Below: per class and net, the class-mean
    residual of each neuron (x) at each layer (y), from :attr:`resdyn.studies.sections.Fig1AB.class_stats`;
    colours end at the 99th percentile of all values.

    ``axes``, if given: 2 + 2 * C axes, the two profiles and then the heat maps net by net."""
    stats = rec.class_stats
    n_cls = len(stats["separate"].classes)
    fig, maps_fig, profile_axes, maps = _fig1a_axes(axes, n_cls)
    for ax, net, color in zip(profile_axes, NETS, class_colors(2)):
        p, u = rec.trained[net].profile, rec.untrained[net].profile
        layers = np.arange(1, len(p.change_profile) + 1)
        ax.plot(layers, p.change_profile, marker="o", ms=4, lw=1.8, color=color, label="trained net")
        ax.plot(layers, u.change_profile, color="0.2", ls="--", lw=1.5, label="untrained net (control)")
        ax.axhline(SETTLING_FRACTION * max(p.change_profile), color="0.5", ls=":", lw=1.2,
                   label=f"rule: {100 * SETTLING_FRACTION:g} % of the peak")
        if p.mean_layer is not None:
            ax.axvline(p.mean_layer, color="0.3", ls="--", lw=1.2, label=f"ours: settles after layer {p.mean_layer}")
        paper_line(ax, PAPER["settling_layer"], label=PAPER_LAYER)
        ax.set_xticks(layers)
        ax.set_xlabel("layer t (the change from layer t to t+1)")
        ax.set_ylabel("mean |class mean of y(t+1) - y(t)|")
        ax.set_title(f"{net} weights: class means " + ("never settle (by the rule)" if p.mean_layer is None
                                                       else f"settle after layer {p.mean_layer}"))
        legend_outside(ax, below=True, ncols=2)
    import torch

    vmax = float(torch.quantile(torch.cat([stats[n].mean.flatten() for n in NETS]), 0.99))
    for row, net in enumerate(NETS):
        for k in range(n_cls):
            ax = maps[row, k]
            plot_residual_heatmap(stats[net].mean[k], ax=ax, vmin=0, vmax=vmax, colorbar=False,
                                  title=f"class {int(stats[net].classes[k])}" if row == 0 else None)
            ax.axhline(PAPER["settling_layer"] + 0.5, color="white", ls="-.", lw=1.2)
            ax.xaxis.set_major_locator(MaxNLocator(2, integer=True))
            ax.set_ylabel(f"{net}\nlayer t" if k == 0 else "")
            if row == 0:
                ax.set_xlabel("")
    maps_fig.colorbar(maps[0, 0].images[0], ax=maps, fraction=0.02, label="class-mean residual y")
    if maps_fig is not fig:
        maps_fig.suptitle("class-mean residual of each neuron (x) at each layer (y); white dash-dot: end of the "
                          f"paper's layer ~{PAPER['settling_layer']}", fontsize="medium")
    fig.suptitle(f"Fig. 1A, paper: the class-mean residuals stop changing {claims.MEAN_SETTLING.paper}")
    return fig


def fig1b(rec, *, axes=None):
    """Fig. 1B (2 x 2): per net, the across-sample std of each class per layer with its settling layer
    and 5 % of its peak, the untrained net's profile (dashed, the control) and the paper's layer ~6;
    the baseline nets' profiles; and the settling layer as a function of the rule (sensitivity).
    Legends sit right of the axes, where they hide no curve."""
    fig, axes = _axes(axes, 2, 2, figsize=(16, 10))
    axes = np.ravel(axes)
    for ax, net in zip(axes, NETS):
        s, p = rec.class_stats[net], rec.trained[net].profile
        plot_layer_profiles(s.layer_std, s.classes, ylabel="std of residuals across samples", ax=ax,
                            marker_layer=p.std_layer, marker_label=f"ours: from layer {p.std_layer}",
                            threshold=SETTLING_FRACTION * max(p.std_profile),
                            title=f"{net} weights, chosen regime: " + ("never settles (by the rule)" if p.std_layer
                                                                       is None else f"settles from layer {p.std_layer}"))
        u = rec.untrained[net].profile.std_profile
        ax.plot(np.arange(1, len(u) + 1), u, color="0.2", ls="--", lw=1.5, label="untrained (mean)")
        paper_line(ax, PAPER["settling_layer"], label=PAPER_LAYER)
        legend_outside(ax, title="class")
    profiles = np.stack([np.asarray(rec.baseline[n].dynamics.profile.std_profile) for n in NETS])
    plot_layer_profiles(profiles, list(NETS), ylabel="std of residuals across samples", ax=axes[2],
                        legend_title="weights", title="baseline regime (notebook 00, stage 1)")
    paper_line(axes[2], PAPER["settling_layer"], label=PAPER_LAYER)
    legend_outside(axes[2], title="weights")
    _sensitivity(rec, axes[3])
    fig.suptitle(f"Fig. 1B, paper: the across-sample std of the residuals is near 0 from {claims.STD_SETTLING.paper}")
    return fig


def _sensitivity(rec, ax):
    """The settling layer of both nets and both statistics as a function of the rule's fraction of the
    peak. Each of the four series is offset by a fraction of a layer and has its own marker and line,
    so that series with equal values (e.g. all "never") stay visible."""
    never_at = len(rec.trained[NETS[0]].profile.std_profile) + 1
    series = [(net, key) for net in NETS for key in ("std_layer", "mean_layer")]
    offsets = (np.arange(len(series)) - (len(series) - 1) / 2) * SERIES_OFFSET
    styles = {"std_layer": ("o", "-", "1B std"), "mean_layer": ("s", ":", "1A means")}
    colors = dict(zip(NETS, class_colors(2)))
    for (net, key), offset in zip(series, offsets):
        sens = rec.trained[net].profile.sensitivity
        marker, ls, name = styles[key]
        layers = [(never_at if v is None else v) + offset for v in getattr(sens, key)]
        ax.plot([100 * f for f in sens.fractions], layers, marker=marker, ms=6, ls=ls, lw=1.5, color=colors[net],
                mfc="white" if key == "mean_layer" else colors[net], label=f"{net}, {name}")
    ax.axhline(never_at, color="0.6", lw=0.8)
    ax.axhline(claims.SETTLING_BY_LAYER, color="0.3", ls="--", lw=1,
               label=f"rule: by layer {claims.SETTLING_BY_LAYER}")
    ax.axvline(100 * SETTLING_FRACTION, color="0.5", ls=":", lw=1, label=f"rule: {100 * SETTLING_FRACTION:g} % of the peak")
    paper_line(ax, PAPER["settling_layer"], label=PAPER_LAYER, vertical=False)
    ax.set_xlabel("rule: % of the peak")
    ticks = list(range(2, never_at, 2))
    ax.set_yticks(ticks + [never_at], [str(t) for t in ticks] + ["never"])
    ax.set_ylim(0.5, never_at + 0.7)
    ax.set_ylabel(f"settling layer (series offset by {SERIES_OFFSET:g} layer)")
    ax.set_title("sensitivity to the rule")
    legend_outside(ax)


def fig1c(rec, *, axes=None):
    """Fig. 1C: per net, the sample distance matrix, its class averages, and the within/between ratio
    per class beside the controls' (untrained net, raw input). The title states the paper's claim."""
    fig, axes = _axes(axes, 2, 3, figsize=(17, 10), gridspec_kw={"width_ratios": [1.2, 1, 0.8]})
    for row, net in enumerate(NETS):
        d = rec.distances[net]
        plot_distance_matrix(d.distances, d.labels, ax=axes[row, 0], title=f"{net}: sample distances")
        plot_class_distance_matrix(d.class_mean, d.classes, ax=axes[row, 1], title=f"{net}: class means")
        ratios = {"trained": rec.trained[net].ratio, "untrained": rec.untrained[net].ratio, "raw input": rec.raw.ratio}
        plot_grouped_ratios(ratios, rec.classes, ax=axes[row, 2], title=f"{net}: within / between")
    fig.suptitle("Fig. 1C, paper: l2 distances of residual trajectories are smaller within a class than between "
                 f"classes ({claims.DISTANCE.paper}: ratio below 1)")
    return fig


def plot_grouped_ratios(ratios: dict, classes, *, ax=None, title: str | None = None):
    """Bars of the within/between ratio per class, one group per class, one bar per set of trajectories."""
    ax = _ax(ax)
    names, x = list(ratios), np.arange(len(classes))
    width = 0.8 / len(names)
    for i, (name, color) in enumerate(zip(names, ["#0173b2", "0.55", "0.8"])):
        ax.bar(x + (i - (len(names) - 1) / 2) * width, ratios[name], width, color=color, label=name)
    ax.axhline(claims.DISTANCE.thresholds["below"], color="0.3", ls="--", lw=1)
    ax.set_xticks(x, [str(c) for c in classes])
    ax.set_xlabel("class")
    ax.set_ylabel("within / between distance")
    ax.set_ylim(0, 1.3)  # room above the bars for the legend
    ax.legend(handles=ax.get_legend_handles_labels()[0]
              + [Line2D([], [], color="0.3", ls="--", lw=1, label=f"rule: ratio below {claims.DISTANCE.thresholds['below']:g}")],
              fontsize="small", ncols=2, loc="upper center")
    if title:
        ax.set_title(title)
    return ax


def fig1d(rec, *, axes=None):
    """Fig. 1D: t-SNE of x(T) per net, beside the controls: sum of y (the net's own contribution),
    the untrained net's x(T), and the raw input x(0). The title states the paper's claim."""
    fig, axes = _axes(axes, 2, 4, figsize=(20, 10.5))
    sep = {f"trained/{n}": rec.trained[n] for n in NETS} | {f"residual_sum/{n}": rec.residual_sum[n] for n in NETS} \
        | {f"untrained/{n}": rec.untrained[n] for n in NETS} | {"raw": rec.raw}
    titles = {"trained": "x(T)", "residual_sum": "sum of y(t) = x(T) - x(0)", "untrained": "x(T), untrained"}
    for row, net in enumerate(NETS):
        for col, kind in enumerate(("trained", "residual_sum", "untrained")):
            key, s = f"{kind}/{net}", sep[f"{kind}/{net}"]
            plot_embedding(rec.embeddings[key], rec.labels, ax=axes[row, col], legend=False,
                           title=f"{net}: {titles[kind]}\nkNN {s.knn_accuracy:.3f}, silhouette {s.silhouette:.2f}")
    plot_embedding(rec.embeddings["raw"], rec.labels, ax=axes[0, 3], legend=False,
                   title=f"raw input x(0)\nkNN {rec.raw.knn_accuracy:.3f}, silhouette {rec.raw.silhouette:.2f}")
    axes[0, 3].legend(title="class", markerscale=3, fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                      frameon=True, borderaxespad=0)  # one legend for every embedding, where it hides no point
    ax = axes[1, 3]
    names = list(sep)
    kinds = {"trained": ("#0173b2", "trained net, x(T)"), "residual_sum": ("#de8f05", "trained net, sum of y(t)"),
             "untrained": ("0.6", "control: untrained net"), "raw": ("0.8", "control: raw input")}
    kind = [n.split("/")[0] for n in names]
    labels = {"trained": "x(T)", "residual_sum": "sum of y(t)", "untrained": "untrained x(T)"}
    ax.barh([f"{labels.get(k, 'raw input x(0)')}{', ' + n.split('/')[1] if '/' in n else ''}" for k, n in zip(kind, names)],
            [sep[n].silhouette for n in names], color=[kinds[k][0] for k in kind])
    threshold = claims.TSNE.thresholds["silhouette"]
    ax.axvline(threshold, color="0.3", ls="--", lw=1)
    handles = [Patch(color=c, label=label) for c, label in kinds.values()]
    handles.append(Line2D([], [], color="0.3", ls="--", lw=1, label=f"rule: silhouette {threshold:g} (holds above)"))
    ax.set_xlim(right=1.0)
    legend_outside(ax, handles=handles, below=True, ncols=2)
    ax.set_xlabel("silhouette of the embedding (-1 to 1)")
    ax.set_title("separation of every embedding")
    fig.suptitle(f"Fig. 1D, paper: the t-SNE of x(T) shows {claims.TSNE.paper}, one per class")
    return fig


def adaptive_depth(rec, *, axes=None):
    """Depth and criterion per epoch (epoch 0: before training) of both adaptive runs; the criterion
    between successive layers of the trained 15-layer nets; the lesion of the unpruned shared net (2 x 2).
    The paper's values sit beside ours: the shared net's final depth of 5 layers (depth, criterion and
    lesion panels), the 15-layer nets' test errors (titles) and the shared net's accuracy (lesion)."""
    fig, axes = _axes(axes, 2, 2, figsize=(15, 10))
    axes = np.ravel(axes)
    colors = class_colors(2)
    depth = PAPER["pruned_depth"]
    for ax, net, color in zip(axes[:2], NETS, colors):
        a = rec.nets[net]
        h = [{"epoch": 0, "depth": a.initial_depth, "criterion": a.initial_criterion}] + a.history
        ax1, ax2 = plot_depth_history([r["epoch"] for r in h], [r["depth"] for r in h], [r["criterion"] for r in h],
                                      threshold=rec.threshold, ax=ax, color=color,
                                      title=f"{net} weights: depth {a.initial_depth} to {a.final_depth}"
                                            f"{' (censored)' if a.censored else ''}\ntest error "
                                            f"{100 * (1 - a.test_acc):.1f} % (unpruned {100 * (1 - a.full_test_acc):.1f} %; "
                                            f"paper, 15 layers: {PAPER[f'error_{net}']:.1f} %)")
        extra = [paper_line(ax1, depth, label=f"paper: {depth} layers (shared)", vertical=False)] if net == "shared" else []
        depth_history_legend(ax2, color=color, threshold=rec.threshold, extra=extra, fontsize="small",
                             loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2)
    ax = axes[2]
    for net, color in zip(NETS, colors):
        c = rec.profiles[net].criterion
        ax.plot(range(2, len(c) + 2), c, marker="o", ms=3, color=color, label=f"{net} (stops at {rec.profiles[net].stop_depth})")
    ax.axhline(rec.threshold, color="0.4", ls=":", lw=1, label="threshold")
    paper_line(ax, depth, label=f"paper: shared stops at {depth} layers")
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
    paper_line(ax, paper_accuracy("shared"), label=f"paper: {paper_accuracy('shared'):.1f} % (test, shared, 15 layers)",
               vertical=False)
    paper_line(ax, depth, label=f"paper: pruned to {depth} layers (shared)")
    ax.set_xlabel("depth kept")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("lesion of the trained 15-layer shared net")
    ax.legend(fontsize="small")
    return fig


# ----------------------------------------------------------------------------------------------
# Seeds and studies
