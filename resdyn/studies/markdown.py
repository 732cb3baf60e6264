"""Small Markdown helpers for the report's sections (each section renders its own part)."""
from __future__ import annotations

import re

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


def cell(value, *, never: bool = False, percent: bool = False, digits: int = 4) -> str:
    """One table cell: None/NaN as "never" (``never``) or "–"; a fraction as a percentage with its unit
    (``percent``); floats rounded to ``digits`` decimals; booleans as yes/no."""
    if value is None or (isinstance(value, float) and value != value):
        return "never" if never else "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if percent:
        return f"{100 * value:.2f} %"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.3g}"
    return str(value)


def show(frame, *, never=(), percent=(), digits: int = 4, index: bool = True):
    """A pandas DataFrame as a Markdown table for a notebook (IPython's Markdown; a str outside IPython):
    readable columns, "never" instead of None/NaN in the ``never`` columns (all columns: ``never=True``),
    the ``percent`` columns (fractions) as percentages with their unit, no wrapping."""
    name = lambda key: " · ".join(map(str, key)) if isinstance(key, tuple) else str(key)  # noqa: E731
    columns = [name(c) for c in frame.columns]
    head = ([name(frame.index.name or "")] if index else []) + columns
    rows = []
    for key, row in frame.iterrows():
        cells = [cell(v, never=never is True or c in never, percent=c in percent, digits=digits)
                 for c, v in zip(columns, row.tolist())]
        rows.append(([name(key)] if index else []) + cells)
    text = table(head, rows)
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython is a dependency
        return text
    return Markdown(text)


#: The most words a generated sentence may have (tests/test_generated_prose.py holds every generated text to it).
MOST_WORDS = 60
#: Words a sentence keeps free for a lead-in ("**rule**:") that the text is put after.
LEAD_WORDS = 10


def _words(text: str) -> int:
    return len(re.findall(r"[^\W\d_][\w'’-]*", text))


def _top_level(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` where it stands outside parentheses and brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch in "([" and 1 or (-1 if ch in ")]" else 0)
        if depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    return parts + [text[start:]]


def plain_sentences(text: str, *, first: bool = True, most: int = MOST_WORDS) -> str:
    """``text`` (a rule's wording: clauses joined by semicolons) as sentences a reader can take in: a clause
    list over ``most`` words (:data:`MOST_WORDS`) becomes one sentence per clause, and a clause still over
    it splits at its colon. Ends with a full stop; the first letter is a capital unless ``first`` is False (the text goes
    on a sentence)."""
    text = text.strip().rstrip(".")
    out = [text]
    if _words(text) > most:
        out = []
        for clause in _top_level(text, "; "):
            out += _top_level(clause, ": ") if _words(clause) > most else [clause]
    out = [c.strip().rstrip(".") for c in out if c.strip()]
    return " ".join((c if i == 0 and not first else c[0].upper() + c[1:]) + "." for i, c in enumerate(out))
