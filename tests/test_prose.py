"""No number typed by hand in the source notebooks' prose: every number in a markdown cell is a quotation
from the paper, a fixed setting of the method (a constant of the package), or notation; a result is
printed by the notebook from its record, never written into its prose. And the package's code and
docstrings speak in the present tense: no word of sessions or issues (history goes to CHANGELOG.md)."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from resdyn.core import claims, data, paths
from resdyn.studies import experiment
from resdyn.studies import regimes
from resdyn.studies.sections import depth, fig1ab, toy, trace

NUMBER = re.compile(r"(?<![\w.\-])-?\d[\d,]*(?:\.\d+)?(?![\w.]*\d)")
#: Spans that hold numbers that are not claims about results: quotations, code, link targets, formulas and
#: names (figures, sections, notebooks, dates of citations, arXiv ids, image sizes, dimensions).
NOTATION = [
    r'"[^"\n]*"', r"“[^”]*”", r"`[^`]*`", r"\]\([^)]*\)", r"\b[a-zA-Z]\([^()]*\)", r"\[[0-9., ]+\]",
    r"Fig(?:ure|s?\.)\s*\d[A-D]?(?:[-/–]\d?[A-D])?(?:,\s*\d[A-D])*", r"figure \d[A-D]", r"\bSec\.\s*\d+", r"\bnotebooks?\s+\d\d(?:(?:\s*(?:-|–|,|and)\s*)\d\d)*",
    r"^#+ \d\d\b", r"\b[01]\d-[01]\d\b", r"\b(?:19|20)\d\d\b", r"arXiv[: ]\s*\d+\.\d+", r"\b\d+x\d+\b", r"\b\d-D\b",
    r"\b\d+e-\d+\b", r"\b[tTkK]\s*[-+=]\s*\d+", r"\b\d+(?:st|nd|rd|th)\b", r"\bl\d\b", r"\bStage \d\b", r"\bstage \d\b",
    r"\bN = \d+", r"\b\d+ \.\. [A-Z]-1\b", r"\|[^|\n]*\|",
]
#: Units that make a number a measurement of this run (a time, a speed): never a setting.
MEASURED = re.compile(r"^\s*(?:minutes?|min|seconds?|s\b|hours?|h\b|GB|MB|x faster)")


def _leaves(obj):
    """Every number inside a constant (dataclasses, dicts, tuples), with its percentage where it is a fraction."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _leaves(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from _leaves(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield float(obj)
        yield round(100 * float(obj), 6)


def settings() -> set[float]:
    """The numbers the method fixes: the package's settings, the rules' thresholds, the paper's values."""
    constants = [claims.PAPER, claims.PAPER_SCALE, [r.thresholds for r in claims.RULES], claims.LESION_MARGIN,
                 experiment.REGIME, experiment.QUICK_TRAIN, experiment.DEPTH, experiment.BUDGETS, experiment.STUDY_1D,
                 data.VAL_SIZE, toy.SETUP, toy.QUICK_SETUP, fig1ab.DEEP, fig1ab.SENSITIVITY_FRACTIONS, depth.DEPTHS,
                 [b[1:] for b in depth.ADAPTIVE_BUDGETS], trace.CONV, regimes.PAPER_LIKE, regimes.TARGETED,
                 [v.model or {} for v in regimes.regime_variants()],
                 [v.train or {} for v in regimes.regime_variants()],
                 784, 28, 10, 2000, 5]
    return {v for c in constants for v in _leaves(c)} | {0.0, 1.0, 2.0, 95.0, 99.0}


def hand_typed(markdown: str, allowed: set[float]) -> list[str]:
    """The numbers of ``markdown`` that are neither notation, a quotation, nor one of ``allowed`` (each
    with its context); a number with a unit of time is always reported (a timing is a result)."""
    text = markdown
    for pattern in NOTATION:
        text = re.sub(pattern, lambda m: " " * len(m.group()), text, flags=re.M)
    found = []
    for m in NUMBER.finditer(text):
        value = float(m.group().replace(",", ""))
        context = markdown[max(0, m.start() - 30):m.end() + 20].replace("\n", " ")
        if MEASURED.match(text[m.end():]) or (value not in allowed and abs(value) not in allowed):
            found.append(f"{m.group()!r} in '...{context}...'")
    return found


def _markdown_cells():
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                yield nb.name, i, "".join(cell["source"])


def test_no_hand_typed_number_in_the_notebooks_prose():
    allowed = settings()
    problems = [f"{name} cell {i}: {p}" for name, i, text in _markdown_cells() for p in hand_typed(text, allowed)]
    assert not problems, "numbers typed by hand (quote the paper, name a setting, or print it from the record):\n" + \
        "\n".join(problems)


@pytest.mark.parametrize("planted", ["The nets reach 97.3 % test accuracy.", "It runs in about 20 minutes here.",
                                     "Settling comes at layer 11 in this run."])
def test_a_planted_result_number_is_found(planted):
    assert hand_typed(planted, settings())


@pytest.mark.parametrize("fine", ['The paper reports "1.4 % error with shared weights".', "Fig. 1B, Sec. 2, notebook 04",
                                  "x(t+1) = x(t) + y(t+1), inputs in [0, 1]", "15 layers of 784 neurons, threshold 0.01"])
def test_notation_quotations_and_settings_pass(fine):
    assert hand_typed(fine, settings()) == []


#: Words that narrate how the code came to be, not what it does (whole words, any case).
HISTORY = re.compile(r"\b(?:sessions?|issues?)\b", re.I)
#: Lines that keep such a word because a committed executed notebook prints them, with that notebook: a
#: changed line would change its output, which CI compares. Each goes once the notebook is re-executed.
#: None is left: the executed notebooks that print older wording are listed in tests/test_generated_prose.py.
PRINTED: dict[tuple[str, str], tuple[str, str]] = {}


def history_words(text: str) -> list[str]:
    """The lines of ``text`` that use a word of :data:`HISTORY`, numbered from 1."""
    return [f"{i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1) if HISTORY.search(line)]


def test_the_package_speaks_in_the_present_tense():
    found = []
    for path in sorted((paths.REPO_ROOT / "resdyn").rglob("*.py")):
        name = path.relative_to(paths.REPO_ROOT).as_posix()
        found += [f"{name}:{hit}" for hit in history_words(path.read_text())
                  if (name, hit.split(": ", 1)[1]) not in PRINTED]
    assert not found, ("history in the package (say what the code does and why; dates and commits go to "
                       "CHANGELOG.md or a rule's written/changed data):\n" + "\n".join(found))


@pytest.mark.parametrize("line, printed", list(PRINTED.items()))
def test_each_kept_history_line_is_still_printed_by_its_committed_notebook(line, printed):
    notebook, text = printed
    path, source = line
    assert source in (paths.REPO_ROOT / path).read_text()
    outputs = "".join("".join(o.get("text", "")) for c in json.loads((paths.REPO_ROOT / notebook).read_text())["cells"]
                      for o in c.get("outputs", []))
    assert text in outputs, f"{notebook} no longer prints {text!r}: rewrite {path}'s line in the present tense"


@pytest.mark.parametrize("text, hits", [("# fixed in session 4", 1), ("Issue 19, item 2: seeds", 1),
                                        ("several sessions", 1), ("issues raised", 1), ("the sessionless run", 0),
                                        ("tissue; reissued", 0)])
def test_history_words_are_found_as_whole_words(text, hits):
    assert len(history_words(text)) == hits
