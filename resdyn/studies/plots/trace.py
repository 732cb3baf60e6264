"""The trace study's figure (notebook 11): per model, the settling of its residuals, every criterion per
layer, and the accuracy with each block skipped alone."""
from __future__ import annotations

import numpy as np
import seaborn as sns
from matplotlib.patches import Patch

from resdyn.core import claims
from resdyn.core.claims import NETS
from resdyn.studies.style import PALETTE
from resdyn.studies.plots.base import _axes
from resdyn.studies.sections.trace import CRITERIA

#: The colour of an essential block's bar.
ESSENTIAL = "#cc0000"


def _stage_bounds(ax, stages):
    """Dotted lines between a model's stages (at the transition layers)."""
    for i, b in enumerate(np.cumsum(stages)[:-1]):
        ax.axvline(b + 0.5, color="0.6", ls=":", lw=1, label="stage transition" if i == 0 else None)


def _trained(record, name: str) -> str:
    """How a model of a trace study was trained, in words: the conv net's budget from the record; the
    dense nets are the regime's trained nets of the paper's figures."""
    c = record.conv
    if name == "conv" and c is not None:
        return (f"trained here: {c.budget()} on {c.n_train:,} images, "
                f"test accuracy {100 * c.test_acc:.1f} %")
    if name in NETS:
        return "the regime's trained net, as in Fig. 1"
    return "given to the study, training not recorded"


def _lesion_panel(ax, m, *, color) -> set[int]:
    """The accuracy change, in points, with each block of ``m`` skipped alone, against the intact model at
    the origin (no change); the essential blocks in red. Returns the essential blocks."""
    from resdyn.studies.sections.trace import essential

    blocks = [r.block for r in m.lesion]
    needed = {r.block for r in essential(m)}
    ax.bar(blocks, [100 * (r.accuracy - m.accuracy) for r in m.lesion],
           color=[ESSENTIAL if r.block in needed else color for r in m.lesion])
    ax.axhline(0, color="0.3", ls="--", lw=1, label=f"intact: {100 * m.accuracy:.2f} %")
    if all(r.accuracy == m.accuracy for r in m.lesion):
        ax.text(0.5, 0.6, "no single lesion changes the accuracy", transform=ax.transAxes,
                ha="center", va="center", fontsize="small", color="0.3")
    ax.set_xticks(blocks)
    low, high = ax.get_ylim()
    ax.set_ylim(low - 0.4 * (high - low), high)  # an empty strip at the bottom for the legend
    ax.set_xlabel("block skipped (lesion)")
    ax.set_ylabel("accuracy change (points)")
    return needed


def trace_models(record, *, axes=None):
    """One row per model of a :class:`resdyn.studies.sections.trace.TraceStudy`: the across-sample std per layer
    relative to its peak (Fig. 1B) with the settling threshold and layer; every criterion of
    :mod:`resdyn.lib.criteria` per layer; the accuracy change, in points, with each block skipped alone,
    against the intact model (0; its accuracy in the title) and the essential blocks in red. A drop of a
    fraction of a point is invisible on a 0-100 % axis, hence the change. Dotted vertical lines: stage
    transitions. Each row's title says how its model was trained; the criteria's legend sits below the
    figure, since every row shares it and a legend inside a panel covers its curves."""
    names = list(record.models)
    fig, axes = _axes(axes, len(names), 3, figsize=(19, 4.6 * len(names)))
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
        needed = _lesion_panel(row[2], m, color=colors[0])
        for ax in (row if len(m.lesion) == m.depth else row[:2]):
            _stage_bounds(ax, m.stages)
        for ax in row[:2]:
            ax.set_xticks(layers)
            ax.set_xlabel("layer t")
        row[0].set_ylabel("across-sample std / its peak")
        row[1].set_ylabel("criterion at layer t")
        row[0].set_title(f"{name} ({m.kind}, {m.depth} layers, stages {m.stages})\n{_trained(record, name)}",
                         fontsize="medium")
        paper = (f"; the paper's test accuracy {100 - claims.PAPER[f'error_{name}']:g} %" if name in NETS else "")
        row[2].set_title(f"One block skipped, against the intact net\nintact: {100 * m.accuracy:.2f} % on "
                         f"{record.n_samples:,} samples{paper}", fontsize="medium")
        row[0].legend(fontsize="small")
        handles, _ = row[2].get_legend_handles_labels()
        if needed:
            handles.append(Patch(color=ESSENTIAL, label=f"essential: {100 * claims.LESION_MARGIN:g}+ points "
                                                        f"below the median lesion"))
        row[2].legend(handles=handles, fontsize="small", loc="lower center", ncols=2)
    # the criteria are the same in every row: one legend below the figure, off the curves
    criteria = {}
    for ax in axes[:, 1]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            criteria.setdefault(label, handle)
    fig.legend(list(criteria.values()), list(criteria), loc="outside lower center", ncols=3, fontsize="small",
               title="middle column: criteria at layer t")
    return fig
