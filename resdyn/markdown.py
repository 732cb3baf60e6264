"""Small Markdown helpers for the report's sections (each section renders its own part)."""
from __future__ import annotations

#: The executed notebooks' folder, beside the report.
EXECUTED = "notebooks"


def pct(x) -> str:
    """A fraction as a percentage with two decimals; "n/a" for None."""
    return "n/a" if x is None else f"{100 * x:.2f} %"


def num(x, fmt="{:.3f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def never(layer) -> str:
    """A settling layer, "never" for None."""
    return "never" if layer is None else str(layer)


def table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def notebook_link(name: str) -> str:
    """A link to the executed notebook ``name`` (its stem), relative to the report."""
    return f"[`{name}`]({EXECUTED}/{name}.ipynb)"
