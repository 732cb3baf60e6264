"""The regimes target's figures (notebooks 15-16): each takes its section's record and computes nothing."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from resdyn.core import claims
from resdyn.core.claims import NETS, regime_name
from resdyn.studies.experiment import DEPTH
from resdyn.studies.sections.by_regime import claim_cells, claim_names
from resdyn.studies.verdict_text import LABEL, label_split
from resdyn.studies.style import PALETTE
from resdyn.studies.plots.base import _axes


#: A colour per verdict (the claims-by-regime matrix).
VERDICT_COLORS = {"holds": "#1a9850", "partly": "#a6d96a", "borderline": "#fee08b", "does not": "#d73027",
                  "no evidence": "#bababa", "inconclusive": "#e0e0e0", "n/a": "#ffffff"}


def claims_by_regime(rec, *, ax=None):
    """A :class:`resdyn.studies.sections.by_regime.ByRegime` as a matrix: one row per claim, one column per regime,
    each cell the verdict over the regime's seeds (colour and word) and how the seeds split."""
    regimes, rows = claim_cells(rec)
    names = claim_names(rec)
    ax = ax or plt.subplots(figsize=(4 + 3.2 * len(regimes), 0.5 * len(rows) + 1.6), constrained_layout=True)[1]
    for i, (claim, cells) in enumerate(rows):
        for j, (verdict, split) in enumerate(cells):
            ax.add_patch(plt.Rectangle((j, i), 1, 1, facecolor=VERDICT_COLORS.get(verdict, "white"), edgecolor="0.6"))
            ax.text(j + 0.5, i + 0.5, f"{LABEL.get(verdict, verdict)}\n{label_split(split)}", ha="center", va="center",
                    fontsize="small")
    ax.set_xlim(0, len(regimes))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([j + 0.5 for j in range(len(regimes))],
                  [f"{regime_name(name)}\n({len(rec.runs[name].seeds)} seeds)" for name in regimes])
    ax.xaxis.tick_top()
    # long claims wrap onto two lines: the cells keep the figure's width, the labels stay apart
    ax.set_yticks([i + 0.5 for i in range(len(rows))], [textwrap.fill(names[r[0]], 52) for r in rows],
                  fontsize="small")
    ax.grid(False)
    ax.set_title("Each claim's verdict over the seeds, per regime", pad=28)
    ax.legend(handles=[Patch(facecolor=c, edgecolor="0.6", label=LABEL[v]) for v, c in VERDICT_COLORS.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="verdict")
    return ax.figure



def layer_ratios(rec, *, axes=None):
    """The within/between distance ratio layer by layer (Fig. 1C on each layer alone) of a
    :class:`resdyn.studies.sections.by_regime.ByRegime`: one panel per regime and kind of weights; per curve
    (the residual net's y(t) and x(t), the non-residual control's x(t)) the mean over the seeds,
    each seed a thin line. Below 1: a layer's vectors are closer within a class than between."""
    from resdyn.studies.sections.controls import CURVES

    names = claims.in_regime_order(rec.controls)
    fig, axes = _axes(axes, len(NETS), len(names), figsize=(4.2 * len(names), 6.4), sharey=True, squeeze=False)
    axes = np.ravel(axes)
    styles = {"residual_y": ("C0", "-"), "residual_x": ("C1", "-"), "mlp_x": ("0.35", "--")}
    for i, net in enumerate(NETS):
        for j, name in enumerate(names):
            ax = axes[i * len(names) + j]
            for curve, (color, ls) in styles.items():
                per_seed = np.array([[np.nan if v is None else v for v in c.layer_ratio[f"{curve}/{net}"]]
                                     for c in rec.controls[name]], dtype=float)
                layers = np.arange(1, per_seed.shape[1] + 1)
                for row in per_seed:
                    ax.plot(layers, row, color=color, ls=ls, lw=0.5, alpha=0.4)
                seen = np.isfinite(per_seed).sum(0)  # a layer no seed measured (a collapsed net) stays a gap
                mean = np.where(seen > 0, np.nansum(per_seed, 0) / np.maximum(seen, 1), np.nan)
                ax.plot(layers, mean, color=color, ls=ls, lw=2, label=CURVES[curve])
            ax.axhline(claims.DISTANCE.thresholds["below"], color="k", ls=":", lw=1)
            ax.set_title(f"{regime_name(name)}, {net} weights ({len(rec.controls[name])} seeds)", fontsize="medium")
            ax.set_xlabel("layer t")
            ax.set_xticks(range(1, per_seed.shape[1] + 1, 2))
            if j == 0:
                ax.set_ylabel("within / between distance ratio")
    handles = [Line2D([], [], color=c, ls=ls, lw=2, label=CURVES[k]) for k, (c, ls) in styles.items()]
    handles.append(Line2D([], [], color="k", ls=":", lw=1,
                          label=f"ratio {claims.DISTANCE.thresholds['below']:g}: no closer within than between"))
    axes[0].set_ylim(bottom=0)  # shared: a ratio's 0 shows how far below 1 a curve is
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize="small")
    fig.suptitle("Class information layer by layer: mean over seeds (thick), each seed (thin)")
    return fig


def intervention(rec, *, axes=None):
    """A :class:`resdyn.studies.sections.intervention.InterventionStudy`: the Fig. 1B settling layer (y; "never"
    above the last layer) against the deep layers' saturated fraction (left) and weight ratio (right),
    one point per net, seed and intervention (colour), marker per regime. Each kind and kind of weights
    sits at its own small vertical offset, so that points on one row ("never" above all) do not hide each
    other. A thin line joins a trained net to an intervention only where both settle: "never" is no
    layer, so a line to it would draw a slope that means nothing."""
    from resdyn.studies.sections.intervention import KINDS
    from resdyn.lib.surgery import INTERVENTIONS

    fig, axes = _axes(axes, 1, 2, figsize=(13, 6.6), sharey=True)
    colors = dict(zip(KINDS, ["0.15", *sns.color_palette(PALETTE, len(KINDS) - 1)]))
    markers = dict(zip(claims.in_regime_order(rec.seeds), "osD^v"))
    never = DEPTH + 2.5
    slots = [(kind, net) for kind in KINDS for net in NETS]  # one offset per kind and weights
    offset = {s: i / (len(slots) - 1) - 0.5 for i, s in enumerate(slots)}  # -0.5 .. 0.5

    def y(p):
        """A point's height: its settling layer or the "never" row, plus its kind's offset (within +-0.35
        of a layer; within +-0.8 on the "never" row, which has room to spare)."""
        if p.std_layer is None:
            return never + 1.6 * offset[p.kind, p.net]
        return p.std_layer + 0.7 * offset[p.kind, p.net]

    groups = {}
    for p in rec.points:
        groups.setdefault((p.regime, p.net, p.seed), {})[p.kind] = p
    for ax, q in zip(axes, ("saturation", "weight_ratio")):
        for g in groups.values():
            base = g.get("trained")
            for kind, p in g.items():
                if base is not None and kind != "trained" and base.std_layer is not None and p.std_layer is not None:
                    ax.plot([getattr(base, q), getattr(p, q)], [y(base), y(p)], color=colors[kind], lw=0.6, alpha=0.5)
        for p in rec.points:
            ax.scatter(getattr(p, q), y(p), marker=markers[p.regime], s=36, edgecolors=colors[p.kind],
                       facecolors=colors[p.kind] if p.net == "separate" else "none", linewidths=1.2, zorder=3)
        ax.axhspan(DEPTH + 0.6, never - 0.9, color="0.93", zorder=0)  # the gap between the last layer and "never"
        ax.axhline(claims.SETTLING_BY_LAYER + 0.5, color="0.4", ls="--", lw=1)
        ax.axhline(claims.PAPER["settling_layer"], color="#d55e00", ls=":", lw=1.5, zorder=1)
        ax.set_xlabel({"saturation": "deep layers' saturated fraction (y < 0.01 or > 0.99)",
                       "weight_ratio": "deep layers' ||W(t)|| / ||W(1)|| (Frobenius)"}[q])
        ax.set_title({"saturation": "Settling against saturation", "weight_ratio": "Settling against weight size"}[q])
    ticks = list(range(1, DEPTH + 1, 2))
    axes[0].set_yticks(ticks + [never], [str(t) for t in ticks] + ["never"])
    axes[0].set_ylim(0.4, never + 1.2)
    axes[0].set_ylabel("Fig. 1B settling layer (never: does not settle)")
    handles = [Line2D([], [], ls="", marker="o", color=colors[k], label="as trained" if k == "trained" else
                      f"{k}: {INTERVENTIONS[k]}") for k in KINDS]
    handles += [Line2D([], [], ls="", marker=m, color="0.4", label=regime_name(r)) for r, m in markers.items()]
    handles += [Line2D([], [], ls="", marker="o", mfc="none", color="0.4", label="hollow: shared weights"),
                Line2D([], [], color="0.4", lw=0.6, label="thin line: a trained net to its intervention, both settling"),
                Line2D([], [], color="0.4", ls="--", lw=1, label=f"settling rule: by layer {claims.SETTLING_BY_LAYER}"),
                Line2D([], [], color="#d55e00", ls=":", lw=1.5,
                       label=f"the paper's settling layer, about {claims.PAPER['settling_layer']}")]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize="small")
    fig.suptitle(f"Deep layers ({rec.from_layer} and later) changed after training, one factor at a time; "
                 f"each regime's seeds, offset a little by kind")
    return fig
