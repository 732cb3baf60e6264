"""The seeds' and the studies' figures (05-11): each takes a section's record and draws it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from resdyn.core import claims
from resdyn.core.claims import NETS, regime_name
from resdyn.studies.experiment import DEPTH
from resdyn.studies.style import PALETTE
from resdyn.studies.plots.base import _ax, _axes, class_colors, depth_history_legend, plot_depth_history
from resdyn.studies.sections.fig1ab import DEEP


def _forest_rows():
    """The forest plot's panels: (title, x label, rows of (metric, label, paper's value, rule's threshold))."""
    tsne, dist, adapt = claims.TSNE.thresholds, claims.DISTANCE.thresholds, claims.ADAPTIVE.thresholds
    paper = claims.PAPER
    return (
        ("Test error", "test error (%)",
         [(f"error_{n}", f"{n} weights", paper[f"error_{n}"], claims.error_limit(n)) for n in NETS]
         + [("scratch_error", "shared, from scratch at the adaptive depth", None, None)]),
        (f"Fig. 1A/1B: settling layer (rules: {100 * claims.SETTLING_FRACTION:g} % of the peak)",
         "layer from which the residuals settle",
         [(f"{k}_{n}", f"{what}, {n}", paper["settling_layer"] if "untrained" not in k else None, claims.SETTLING_BY_LAYER)
          for k, what in (("mean_layer", "class means (1A)"), ("std_layer", "std (1B)"),
                          ("std_layer_untrained", "std, untrained control")) for n in NETS]),
        (f"Fig. 1A/1B: settling layer on the paper's absolute scale ({claims.PAPER_SCALE:g} per neuron)",
         "layer from which the residuals settle",
         [(f"{k}_{n}", f"{what}, {n}", paper["settling_layer"] if "untrained" not in k else None, claims.SETTLING_BY_LAYER)
          for k, what in (("mean_layer_absolute", "class means (1A)"), ("std_layer_absolute", "std (1B)"),
                          ("std_layer_absolute_untrained", "std, untrained control")) for n in NETS]),
        ("Fig. 1C: trajectory distances", "within / between distance ratio, or margin over the better control",
         [(f"distance_ratio_{n}", f"ratio, {n}", None, dist["below"]) for n in NETS]
         + [(f"distance_margin_{n}", f"margin, {n}", None, dist["margin"]) for n in NETS]),
        ("Fig. 1D: t-SNE clusters", "score, or margin over the better control",
         [(f"{k}_{n}", f"{what}, {n}", None, tsne[t]) for k, what, t in
          (("knn", "kNN accuracy", "knn"), ("silhouette", "silhouette", "silhouette"),
           ("knn_margin", "kNN margin", "knn_margin"), ("silhouette_margin", "silhouette margin", "silhouette_margin"))
          for n in NETS]),
        ("Adaptive depth: final depth", "final depth (layers)",
         [(f"adaptive_depth_{n}", f"{n} weights", paper["pruned_depth"] if n == "shared" else None,
           adapt["max_depth"] if n == "shared" else None) for n in NETS]),
        ("Adaptive depth: accuracy", "test accuracy change (points)",
         [(f"adaptive_change_{n}", f"adaptive minus unpruned, {n}", None, -adapt["max_loss"]) for n in NETS]
         + [("scratch_minus_adaptive", "from scratch minus adaptive, shared", None, None)]),
    )


def seeds(rec, *, axes=None):
    """A forest plot of a :class:`resdyn.studies.sections.seeds.SeedsSection`: one row per headline number, each
    seed a dot, the mean with its 95 % t-interval, the paper's value (star) and the rule's threshold
    (red tick); a settling layer that never comes is drawn as a hollow dot at "never", right of the axis."""
    panels = [(title, xlabel, [r for r in rows if r[0] in rec.summary])  # an older record has fewer numbers
              for title, xlabel, rows in _forest_rows()]
    panels = [p for p in panels if p[2]]
    fig, axes = _axes(axes, len(panels), 1, figsize=(10, sum(0.42 * len(p[2]) + 1.1 for p in panels)),
                      gridspec_kw={"height_ratios": [len(p[2]) + 1.5 for p in panels]})
    colors = class_colors(len(rec.seeds))
    for ax, (title, xlabel, rows) in zip(axes, panels):
        layers = "settling layer" in title
        for i, (metric, label, paper, threshold) in enumerate(rows):
            iv = rec.summary[metric]
            y = len(rows) - 1 - i
            for j, (seed, v) in enumerate(zip(rec.seeds, iv.values)):
                jitter = (j - (len(rec.seeds) - 1) / 2) * 0.06
                if v is None:
                    ax.scatter([DEPTH + 2], [y + jitter], facecolors="none", edgecolors=colors[j], s=30, zorder=3)
                else:
                    ax.scatter([v], [y + jitter], color=colors[j], s=18, zorder=3)
            if iv.mean is not None:
                ax.plot([iv.mean], [y], marker="|", ms=14, color="0.15", zorder=4)
            if iv.low is not None:
                ax.plot([iv.low, iv.high], [y, y], color="0.15", lw=2, zorder=2)
            if paper is not None:
                ax.scatter([paper], [y], marker="*", s=110, color="#d55e00", edgecolors="0.2", linewidths=0.4, zorder=5)
            if threshold is not None:
                ax.plot([threshold], [y], marker="|", ms=18, mew=2.5, color="#cc0000", zorder=1)
        ax.set_yticks(range(len(rows)), [r[1] for r in rows][::-1], fontsize="small")
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_title(title, loc="left", fontsize="medium")
        ax.set_xlabel(xlabel, fontsize="small")
        if layers:
            ticks = list(range(1, DEPTH + 1, 2))
            ax.set_xticks(ticks + [DEPTH + 2], [str(t) for t in ticks] + ["never"])
            ax.set_xlim(0.5, DEPTH + 2.8)
    handles = [
        Line2D([], [], ls="", marker="o", color=colors[0], label="one seed (colour per seed)"),
        Line2D([], [], ls="", marker="o", mfc="none", color=colors[0], label='one seed, never settles ("never")'),
        Line2D([], [], color="0.15", lw=2, marker="|", ms=12, label="mean and 95 % t-interval over seeds"),
        Line2D([], [], ls="", marker="*", ms=10, color="#d55e00", label="the paper's value"),
        Line2D([], [], ls="", marker="|", ms=14, mew=2.5, color="#cc0000", label="the rule's threshold"),
    ]
    axes[0].legend(handles=handles, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"Headline numbers over {len(rec.seeds)} seeds ({', '.join(map(str, rec.seeds))})")
    return fig


def _net_label(name: str) -> str:
    regime, _, weights = name.partition("/")
    return f"{regime_name(regime)}, {weights} weights" if weights else name


def mechanism(rec, *, nets=None, axes=None):
    """Layer by layer, for the main nets of a :class:`resdyn.studies.sections.MechanismStudy`: the across-sample
    std relative to its peak, the saturated fraction, the sigmoid slope and ||W(t)|| relative to
    layer 1's; settling nets should line up with whichever mechanism produces it. Dashed: the
    untrained controls."""
    fig, axes = _axes(axes, 1, 4, figsize=(24, 5.6))
    names = nets or list(rec.dynamics)
    colors = sns.color_palette(PALETTE, len(names))
    for name, color in zip(names, colors):
        dyn = rec.dynamics[name]
        std, m = np.asarray(dyn.profile.std_profile), dyn.mechanism
        layers = np.arange(1, len(std) + 1)
        ls = "--" if name.startswith("untrained") else "-"
        axes[0].plot(layers, std / std.max(), ls=ls, color=color, marker="o", ms=3, label=_net_label(name))
        axes[1].plot(layers, m.saturated, ls=ls, color=color, marker="o", ms=3)
        axes[2].plot(layers, m.slope, ls=ls, color=color, marker="o", ms=3)
        axes[3].plot(layers, np.asarray(m.weight_norm) / m.weight_norm[0], ls=ls, color=color, marker="o", ms=3)
    panels = (("Fig. 1B: across-sample std, relative", "std across samples / its peak"),
              ("Saturated units", "saturated fraction (y < 0.01 or > 0.99)"),
              ("Sigmoid slope (the layer's gain)", "mean slope y (1 - y)"),
              ("Weight norm, relative to layer 1", "||W(t)|| / ||W(1)|| (Frobenius)"))
    for ax, (title, label) in zip(axes, panels):
        ax.set_title(title)
        ax.set_xlabel("layer t")
        ax.set_ylabel(label)
    axes[0].axhline(claims.SETTLING_FRACTION, color="0.3", ls=":", lw=1)
    paper = dict(color="#d55e00", ls="-.", lw=1.3)
    axes[0].axvline(claims.PAPER["settling_layer"], **paper)
    handles, labels = axes[0].get_legend_handles_labels()
    handles += [Line2D([], [], color="0.3", ls=":", lw=1), Line2D([], [], **paper)]
    labels += [f"settling rule: {100 * claims.SETTLING_FRACTION:g} % of the peak",
               f"the paper's settling layer, about {claims.PAPER['settling_layer']}"]
    fig.legend(handles, labels, loc="outside lower center", ncols=5, fontsize="small")
    return fig


def _paper_accuracy(ax, *, colors=None, ls=":") -> list[Line2D]:
    """The paper's MNIST test accuracy (100 minus its error, :data:`resdyn.core.claims.PAPER`) of both
    kinds of weights as horizontal lines on ``ax`` (coloured per net where ``colors`` is given); their
    legend handles."""
    handles = []
    for net, color in zip(NETS, colors or ["#d55e00"] * len(NETS)):
        acc = 100 - claims.PAPER[f"error_{net}"]
        style = dict(color=color, ls=ls if colors else {"separate": ":", "shared": "-."}[net], lw=1.3)
        ax.axhline(acc, zorder=1, **style)
        handles.append(Line2D([], [], **style, label=f"the paper, {net} weights: {acc:g} %"))
    return handles


def regime_map(rec, *, ax=None):
    """Test accuracy (validation where the test set was not read) against the Fig. 1B settling layer
    ("never" right of the last layer), one point per trained net, coloured by the deep layers' saturated fraction;
    circles: separate weights, a little left of their layer; squares: shared, a little right, so that
    the two kinds on one column do not hide each other. The y axis spans every point and the paper's
    accuracies; the legend sits below the axes, off the data."""
    ax = _ax(ax)
    pts = [p for p in rec.points if p.group != "untrained"]
    never = DEPTH + 2  # right of the last layer, apart from its tick
    x = [(never if p.std_layer is None else p.std_layer) + (0.18 if p.shared else -0.18) for p in pts]
    y = [100 * (p.test_acc if p.test_acc is not None else p.val_acc) for p in pts]
    c = [p.saturation for p in pts]
    cmap = plt.get_cmap("viridis")
    for shared, marker in ((False, "o"), (True, "s")):
        for tested in (True, False):
            idx = [i for i, p in enumerate(pts) if p.shared == shared and (p.test_acc is not None) == tested]
            if not idx:
                continue
            colors = [cmap(c[i]) for i in idx]
            ax.scatter([x[i] for i in idx], [y[i] for i in idx], marker=marker, s=45, linewidths=1.2,
                       facecolors=colors if tested else "none", edgecolors="0.2" if tested else colors)
    sc = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
    ax.axvline(claims.SETTLING_BY_LAYER + 0.5, color="0.4", ls="--", lw=1)
    paper = _paper_accuracy(ax)
    ticks = list(range(1, DEPTH + 1, 2))
    ax.set_xticks(ticks + [never], [str(t) for t in ticks] + ["never"])
    ax.set_xlim(0.5, never + 0.8)
    ax.set_xlabel("Fig. 1B settling layer (std below 5 % of its peak; never: does not settle)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Settling against accuracy, one point per trained net")
    ax.set_ylim(max(min(y, default=100) - 2, 0), 100.5)  # every point, the paper's accuracies and 100 %
    ax.figure.colorbar(sc, ax=ax, label=f"saturated fraction, layers {DEEP}-{DEPTH}")
    handles = [Line2D([], [], ls="", marker="o", color="0.5", mec="0.2", label="separate weights, test accuracy"),
               Line2D([], [], ls="", marker="s", color="0.5", mec="0.2", label="shared weights, test accuracy"),
               Line2D([], [], ls="", marker="o", mfc="none", mec="0.4", label="hollow: validation accuracy (stage-1 nets)"),
               Line2D([], [], color="0.4", ls="--", lw=1, label=f"settling rule: by layer {claims.SETTLING_BY_LAYER}"),
               *paper]
    ax.legend(handles=handles, fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    return ax.figure


def depth(rec, *, axes=None):
    """Accuracy against depth from scratch (both kinds of weights) with the adaptive runs' points and the
    paper's accuracies (dotted, per net); the compute of three ways to the adaptive depth; the final depth
    per adaptive budget, with the paper's adaptive depth (shared weights)."""
    fig, axes = _axes(axes, 1, 3, figsize=(20, 5.5))
    colors = class_colors(2)
    for net, color in zip(NETS, colors):
        rows = [r for r in rec.curve if r.shared == (net == "shared")]
        axes[0].plot([r.depth for r in rows], [100 * r.test_acc for r in rows], marker="o", color=color, label=f"{net}, from scratch")
        a = rec.adaptive[net]
        axes[0].scatter([a.depth], [100 * a.test_acc], marker="*", s=200, color=color, edgecolors="0.2",
                        label=f"{net}, adaptive (final depth)", zorder=3)
    handles, _ = axes[0].get_legend_handles_labels()
    handles += _paper_accuracy(axes[0], colors=colors)
    axes[0].set_xlabel("depth T (layers)")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_title("Accuracy against depth")
    axes[0].legend(handles=handles, fontsize="small", loc="best")
    axes[1].barh([c.method for c in rec.compute], [c.multiply_adds / 1e12 for c in rec.compute], color="0.6")
    axes[1].set_xlabel("training multiply-adds (10$^{12}$)")
    axes[1].set_title("Training cost of a shared net of the adaptive depth")
    censored = ("0.75", "censored: below the threshold at every check")
    reached = ("#0173b2", "uncensored")
    axes[2].bar([b.label for b in rec.budgets], [b.final_depth for b in rec.budgets],
                color=[censored[0] if b.censored else reached[0] for b in rec.budgets])
    axes[2].axhline(claims.PAPER["pruned_depth"], color="#d55e00", ls=":", lw=1.5)
    axes[2].set_ylabel("final depth T (layers)")
    top = max([b.final_depth for b in rec.budgets] + [claims.PAPER["pruned_depth"]])
    axes[2].set_ylim(0, 1.35 * top + 1)  # a strip above the bars for the legend
    axes[2].set_title("Shared adaptive runs: final depth per budget")
    axes[2].legend(handles=[Patch(color=c, label=label) for c, label in (reached, censored)]
                   + [Line2D([], [], color="#d55e00", ls=":", lw=1.5,
                             label=f"the paper: {claims.PAPER['pruned_depth']} layers (shared, MNIST)")],
                   fontsize="small", loc="upper right")
    plt.setp(axes[2].get_xticklabels(), rotation=20, ha="right")
    return fig


#: The precision study's metric stems in words (the suffix names the net or the epoch).
_METRICS = {"error": "test error", "distance_ratio": "Fig. 1C ratio", "knn": "Fig. 1D kNN accuracy",
            "silhouette": "Fig. 1D silhouette", "adaptive_depth": "adaptive final depth",
            "adaptive_change": "adaptive accuracy change"}


def _metric_label(metric: str) -> str:
    if metric.startswith("criterion_"):
        return f"criterion after epoch {metric.removeprefix('criterion_')}"
    stem, _, net = metric.rpartition("_")
    return f"{_METRICS.get(stem, stem.replace('_', ' '))}, {net}" if stem else metric


def precision(rec, *, ax=None):
    """For every number of a :class:`resdyn.studies.sections.PrecisionStudy`: |bf16 - fp32| against the seed
    spread (bars below the dashed line are within the spread)."""
    ax = _ax(ax)
    rows = [r for r in rec.rows if r.difference is not None]
    ratio = [abs(r.difference) / r.spread if r.spread else (0.0 if r.difference == 0 else np.inf) for r in rows]
    within, outside = ("#0173b2", "within the seed spread"), ("#de8f05", "outside the seed spread")
    ax.barh([_metric_label(r.metric) for r in rows], np.minimum(ratio, 3),
            color=[within[0] if r.within else outside[0] for r in rows])
    ax.axvline(claims.PRECISION_SPREADS, color="0.3", ls="--", lw=1)
    ax.set_xlabel("|bf16 - fp32| / seed spread (capped at 3)")
    ax.set_title("bf16 against fp32: each number's change, in seed spreads")
    ax.legend(handles=[Patch(color=c, label=label) for c, label in (within, outside)]
              + [Line2D([], [], color="0.3", ls="--", lw=1, label=f"rule: {claims.PRECISION_SPREADS:g} spread")],
              fontsize="small", loc="lower right")
    return ax.figure


def toy_circles(record, *, axes=None):
    """Depth and criterion per epoch (epoch 0: before training) of both adaptive runs of a
    :class:`resdyn.studies.sections.toy.ToyCircles`, and the test points with each final net's decision boundary (when the
    record still holds them)."""
    fig, axes = _axes(axes, 1, 3, figsize=(18, 4.8))
    colors = class_colors(5)  # nets: blue, orange; classes: green, purple
    for ax, net, color in zip(axes[:2], NETS, colors):
        a = record.nets[net]
        _, ax2 = plot_depth_history(list(range(len(a.depth) + 1)), [a.initial_depth, *a.depth],
                                    [a.initial_criterion, *a.criterion], threshold=record.threshold, ax=ax,
                                    color=color, title=f"{net} weights: depth and criterion")
        depth_history_legend(ax2, color=color, threshold=record.threshold, loc="center right")
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
