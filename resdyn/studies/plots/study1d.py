"""The MNIST-1D study's figures (notebooks 12-14): each takes its section record and computes nothing."""
from __future__ import annotations

import textwrap

import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D

from resdyn.core import claims
from resdyn.core.pruning import PAPER_THRESHOLD
from resdyn.lib.removal import STRATEGIES
from resdyn.studies.style import PALETTE
from resdyn.lib.zoo import FAMILY_NAMES
from resdyn.studies.plots.base import _axes

#: How the figures name the strategies.
LABELS = {"paper": "paper's c(t)", "block_influence": "Block Influence", "angular": "angular distance (1 block)",
          "cka": "1 - CKA", "relative": "|y| / |x|", "deepest": "deepest first", "angular_span": "Gromov's best span",
          "oracle": "oracle (greedy, validation)"}


def _colors():
    return dict(zip(STRATEGIES, sns.color_palette(PALETTE, len(STRATEGIES))))


def depth_curves(record, *, ax=None):
    """Test accuracy against the number of blocks, one line per family: mean over seeds with the 95 %
    t-interval as error bars and each seed as a dot."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(10, 4.5), constrained_layout=True)
    else:
        fig = ax.figure
    colors = sns.color_palette(PALETTE, len(record.families))
    for name, color in zip(claims.in_order(record.families, FAMILY_NAMES), colors):
        fam = record.families[name]
        depths = sorted(int(d) for d in fam.test_acc)  # JSON keys: strings, in any order
        means = [fam.test_acc[str(d)].mean for d in depths]
        low = [m - (fam.test_acc[str(d)].low if fam.test_acc[str(d)].low is not None else m) for d, m in zip(depths, means)]
        high = [(fam.test_acc[str(d)].high if fam.test_acc[str(d)].high is not None else m) - m for d, m in zip(depths, means)]
        ax.errorbar(depths, means, yerr=[low, high], marker="o", capsize=3, color=color, label=fam.title)
        for d in depths:
            values = [v for v in fam.test_acc[str(d)].values if v is not None]
            ax.scatter([d] * len(values), values, s=8, color=color, alpha=0.5)
    ax.set_xscale("log", base=2)
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("residual blocks (trained from scratch)")
    ax.set_ylabel("MNIST-1D test accuracy (%)")
    ax.set_title("Where depth matters: accuracy by depth (mean, 95 % interval; dots: seeds)")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def criteria_comparison(record, *, axes=None):
    """One row per family: test accuracy against blocks removed for every strategy (mean over seeds;
    solid: no retraining, dashed: after healing), and the criteria's scores (area over the oracle's,
    seeds as dots) and Spearman rho with the single-block loss."""
    names = claims.in_order(record.families, FAMILY_NAMES)
    fig, axes = _axes(axes, len(names), 3, figsize=(18, 4.2 * len(names)))
    axes = np.asarray(axes).reshape(len(names), 3)
    colors = _colors()
    for row, name in zip(axes, names):
        fam = record.families[name]
        for s in STRATEGIES:
            acc = fam.curves[s]["acc"]
            k = np.arange(1, len(acc) + 1)
            row[0].plot(k, acc, color=colors[s], lw=2.2 if s in ("paper", "oracle") else 1.2, label=LABELS[s])
            if "healed" in fam.curves[s]:
                row[0].plot(k, fam.curves[s]["healed"], color=colors[s], ls="--", lw=1)
        row[0].set_xlabel("blocks removed, k")
        row[0].set_ylabel("test accuracy (%)")
        row[0].set_title(f"{name}: accuracy after removing k blocks")
        for col, (values, title) in enumerate(((fam.score, "score: area / oracle's (no healing)"),
                                               (fam.spearman, "Spearman rho with single-block loss")), start=1):
            keys = claims.in_order(values, STRATEGIES)
            for i, key in enumerate(keys):
                iv = values[key]
                pts = [v for v in iv.values if v is not None]
                row[col].scatter([i] * len(pts), pts, color=colors[key], s=14, alpha=0.7)
                if iv.mean is not None:
                    lo, hi = (iv.low, iv.high) if col == 1 or iv.low is None else (max(iv.low, -1.0), min(iv.high, 1.0))
                    err = None if iv.low is None else [[max(iv.mean - lo, 0.0)], [max(hi - iv.mean, 0.0)]]
                    row[col].errorbar([i], [iv.mean], yerr=err, fmt="_", ms=18, capsize=4, color=colors[key])
            row[col].set_xticks(range(len(keys)), [LABELS[k] for k in keys], rotation=35, ha="right", fontsize="small")
            row[col].set_title(f"{name}: {title}")
        row[1].set_ylabel("area under the curve / oracle's\n(bootstrap interval)")
        row[2].set_ylabel("Spearman rho (Fisher-z interval)")
        row[2].set_ylim(-1.08, 1.08)
    handles = [Line2D([], [], color=colors[s], lw=2.2 if s in ("paper", "oracle") else 1.2, label=LABELS[s])
               for s in STRATEGIES]
    handles += [Line2D([], [], color="0.4", ls="--", lw=1, label="after healing (dashed)"),
                Line2D([], [], ls="", marker="o", color="0.4", ms=4, label="one seed (dot)"),
                Line2D([], [], ls="", marker="_", color="0.4", ms=14, mew=1.5,
                       label="mean over seeds, bars: 95 % interval (score: bootstrap; rho: Fisher-z)")]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small")
    return fig


#: The right panel of :func:`adaptive_runs`: the three nets compared per family, their marker and x offset.
_NETS_1D = (("deep", "deep net, no rule", "o", -0.25), ("adaptive", "adaptive", "D", 0.0),
            ("scratch", "from scratch at the final depth", "s", 0.25))


def adaptive_runs(record, *, axes=None):
    """Left: the criterion mean |y(T) - y(T-1)| before training and at the last check of every run at the
    paper's threshold (one dot per seed; the tick label gives the seeds' final depths), against every
    threshold of the sweep (lines). Right: at the paper's threshold, test accuracy of the deep, the
    adaptive and the from-scratch nets per family, as points (large: mean; small: seeds) on an axis
    around the data; a bar from 0 would hide the differences. Where the three nets' accuracies are
    identical seed by seed (no block went), the tick label says so. The paper has no MNIST-1D value."""
    fig, axes = _axes(axes, 1, 2, figsize=(14, 5.4))
    families = claims.in_order(record.families, FAMILY_NAMES)
    colors = dict(zip(families, sns.color_palette(PALETTE, len(families))))
    paper = [r for r in record.runs if r.threshold == PAPER_THRESHOLD]
    for i, f in enumerate(families):
        runs = [r for r in paper if r.family == f]
        xs = [i + 0.08 * (j - (len(runs) - 1) / 2) for j in range(len(runs))]
        axes[0].scatter([x - 0.2 for x in xs], [r.initial_criterion for r in runs], marker="o", facecolors="none",
                        edgecolors=colors[f], s=30)
        axes[0].scatter([x + 0.2 for x in xs], [r.final_criterion for r in runs], marker="o", color=colors[f], s=30)
    for t in sorted({r.threshold for r in record.runs}):
        axes[0].axhline(t, color="0.3" if t == PAPER_THRESHOLD else "0.65", ls="--" if t == PAPER_THRESHOLD else ":", lw=1)
    axes[0].set_yscale("log")
    # the seeds' final depths go under the family's name, wrapped, not beside the dots (labels there overlap)
    depths = {f: ", ".join(str(r.final_depth) for r in paper if r.family == f) for f in families}
    axes[0].set_xticks(range(len(families)), [f"{f}\nfinal depths\n{textwrap.fill(depths[f] or 'none', 12)}"
                                              for f in families], fontsize="small")
    axes[0].set_ylabel("criterion mean |y(T) - y(T-1)|")
    axes[0].set_title("The rule's criterion: a block goes only below the threshold")
    handles = [Line2D([], [], ls="", marker="o", mfc="none", mec="0.3", label="left: before training"),
               Line2D([], [], ls="", marker="o", color="0.3", label="left: at the last check"),
               Line2D([], [], color="0.3", ls="--", lw=1, label=f"paper's threshold {PAPER_THRESHOLD:g}"),
               Line2D([], [], color="0.65", ls=":", lw=1, label="the sweep's other thresholds")]
    values, ticks = [], []
    for i, f in enumerate(families):
        fam = record.families[f]
        nets = {"deep": fam.deep_acc, "scratch": fam.scratch_acc,
                "adaptive": [r.test_acc for r in record.runs if r.family == f and r.threshold == PAPER_THRESHOLD]}
        for key, _, marker, dx in _NETS_1D:
            v = nets[key]
            values += v
            axes[1].scatter([i + dx] * len(v), v, color="0.1", s=8, zorder=3)
            if v:
                axes[1].scatter([i + dx], [np.mean(v)], marker=marker, s=90, color=colors[f], edgecolors="0.2", zorder=2)
        same = nets["deep"] and nets["deep"] == nets["adaptive"] == nets["scratch"]  # seed by seed
        ticks.append(f"{f}\nall three\nidentical" if same else f)  # under the points: it never covers one
    axes[1].set_xticks(range(len(families)), ticks)
    axes[1].set_xlim(-0.6, len(families) - 0.4)
    axes[1].set_ylabel("MNIST-1D test accuracy (%)")
    axes[1].set_title(f"Threshold {PAPER_THRESHOLD:g}: accuracy (large: mean; dots: seeds)")
    if values:
        low, high = min(values), max(values)
        pad = max(high - low, 1.0)
        axes[1].set_ylim(low - 0.1 * pad, high + 0.1 * pad)
    handles += [Line2D([], [], ls="", marker=m, ms=8, color="0.6", mec="0.2", label=f"right: {label}")
                for _, label, m, _ in _NETS_1D]
    fig.legend(handles=handles, fontsize="small", loc="outside lower center", ncols=4)  # below both panels
    fig.suptitle(f"MNIST-1D adaptive depth at the paper's threshold; no paper value (MNIST-1D): the paper's "
                 f"{claims.PAPER['pruned_depth']} layers are for shared weights on MNIST", fontsize="medium")
    return fig
