"""The figures' look, set once per process by :func:`resdyn.setup` (and by :mod:`resdyn.studies.plots`)."""
from __future__ import annotations

import matplotlib

matplotlib.rcParams["svg.hashsalt"] = "resdyn"

#: seaborn's colour-blind-safe palette, for every figure.
PALETTE = "colorblind"
#: Figures shown inline (executed notebooks) at screen resolution; saved figures set their own dpi.
SCREEN_DPI = 72


def use_style() -> None:
    """seaborn's whitegrid style, colour-blind palette, a readable font size, screen resolution inline."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    matplotlib.rcParams["figure.dpi"] = SCREEN_DPI
