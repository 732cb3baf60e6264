"""The paper notebooks' figures (00-04): each takes a section's record and draws it."""
from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.studies.plots.base import (_ax, _axes, class_colors, depth_history_legend, plot_class_distance_matrix,
                                       plot_depth_history, plot_distance_matrix, plot_embedding, plot_layer_profiles,
                                       plot_residual_heatmap)


def regime_sweep(sweep, *, axes=None):
    """Stage 1 (separate weights, best last) and stage 2 of a :class:`resdyn.studies.sections.RegimeSweep`."""
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
    :attr:`resdyn.studies.sections.Fig1AB.class_stats`; colours end at the 99th percentile of all values."""
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
                            marker_layer=p.std_layer, threshold=claims.SETTLING_FRACTION * max(p.std_profile),
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
    ax.axhline(claims.SETTLING_BY_LAYER, color="0.3", ls="--", lw=1, label=f"layer {claims.SETTLING_BY_LAYER} (the rule)")
    ax.set_xlabel("rule: % of the peak")
    ticks = [t for t in range(2, never, 2)]
    ax.set_yticks(ticks + [never], [str(t) for t in ticks] + ["never"])
    ax.set_ylabel("settling layer (never: does not settle)")
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
    ax.set_xlim(right=1.0)  # room right of the bars for the legend
    ax.legend(handles=handles, fontsize="small", loc="upper right")
    ax.set_xlabel("silhouette of the embedding (-1 to 1)")
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
        ax1, ax2 = plot_depth_history([r["epoch"] for r in h], [r["depth"] for r in h], [r["criterion"] for r in h],
                                      threshold=rec.threshold, ax=ax, color=color,
                                      title=f"{net} weights: depth and criterion{' (censored)' if a.censored else ''}")
        depth_history_legend(ax2, color=color, threshold=rec.threshold)
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
