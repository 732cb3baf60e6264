"""The verdicts as a reader meets them at the end of a notebook: the claims table in the claims' own
wording (:func:`table`) and the paragraph that says what the verdicts show (:func:`what_this_shows`).

A verdict's key (``distance_separate``, ``mean_absolute_shared/chosen``) is how the record files it; a
reader gets the claim's wording from its rule (:mod:`resdyn.core.claims.rules`) instead. The table is
Markdown in Jupyter and the book, which wrap it to the page, and plain text where no Markdown is shown
(a terminal, and nbval, which compares both); the paragraph is Markdown, its sentences under
:data:`resdyn.studies.markdown.MOST_WORDS` words.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from resdyn.core import claims
from resdyn.core.claims import NETS, Verdict
from resdyn.lib.zoo import FAMILY_NAMES
from resdyn.studies.markdown import MOST_WORDS, _words, table as markdown_table

#: Each verdict word as a reader takes it in a sentence: (one claim, several claims); ``{also}`` is
#: "also " in a sentence that goes on from the one before.
SAYS = {"holds": ("this claim {also}holds", "these claims {also}hold"),
        "partly": ("this claim {also}holds in part", "these claims {also}hold in part"),
        "borderline": ("this claim is {also}borderline, its value on the rule's threshold",
                       "these claims are {also}borderline, their values on the rules' thresholds"),
        "does not": ("this claim {also}does not hold", "these claims {also}do not hold"),
        "no evidence": ("this claim {also}has no evidence, since a control meets it too",
                        "these claims {also}have no evidence, since a control meets them too"),
        "inconclusive": ("this claim {also}cannot be decided", "these claims {also}cannot be decided"),
        "n/a": ("this claim is {also}not judged, the paper giving no number for it",
                "these claims are {also}not judged, the paper giving no number for them")}
#: How a count of claims with each verdict reads: (one, several).
COUNTS = {"holds": ("holds", "hold"), "partly": ("holds in part", "hold in part"),
          "borderline": ("is borderline", "are borderline"), "does not": ("does not hold", "do not hold"),
          "no evidence": ("has no evidence because a control meets it too",
                          "have no evidence because a control meets them too"),
          "inconclusive": ("cannot be decided", "cannot be decided"), "n/a": ("is not judged", "are not judged")}
#: Each verdict word's plain label, where the word alone could be misread: the tables and figures show it
#: (the record keeps the words).
LABEL = {"holds": "holds", "partly": "holds in part", "borderline": "on its threshold", "does not": "does not hold",
         "no evidence": "met by a control too", "inconclusive": "cannot be decided", "n/a": "not judged"}
#: What each verdict word means, in one sentence each: the legend under the report's summary table.
MEANING = {"holds": "the trained net passes the claim's test and beats every control by the rule's margin.",
           "partly": "some of what the claim says is met, not all of it.",
           "borderline": "the measured value, or its interval over the seeds, lies on the rule's threshold.",
           "does not": "the trained net fails the claim's test.",
           "no evidence": "the trained net passes the test, but a control passes it too: the test shows nothing about training.",
           "inconclusive": "the measurement cannot decide, for example a depth set by the epoch budget, or seeds that disagree.",
           "n/a": "the paper gives nothing to compare with."}

#: The words a sentence of the paragraph may take before a list of claims goes on in a sentence of its own.
SENTENCE_WORDS = MOST_WORDS - 10
#: The widest line of a table's plain text.
TEXT_WIDTH = 100
#: What a rule gives as the paper's value where the paper makes no such claim.
NOT_IN_PAPER = "not in the paper"


def label_split(split: str) -> str:
    """How the seeds of a regime split, as :func:`resdyn.core.claims.over_seeds` writes it, in the verdicts'
    plain labels: "2/5 partly, 3/5 does not" -> "2/5 holds in part, 3/5 does not hold"."""
    def one(part: str) -> str:
        count, _, word = part.partition(" ")
        return f"{count} {LABEL[word]}" if re.fullmatch(r"\d+/\d+", count) and word in LABEL else part
    return ", ".join(one(p) for p in split.split(", "))


def and_list(items) -> str:
    """``["a", "b", "c"]`` -> "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- what a key says -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parts:
    """What a verdict's key names: the claim (``stem``: its rule's key, or the kind of settling and
    ``absolute``, or ``intervention_<factor>``), the weights or MNIST-1D family it is about, the regime
    (None for one run) and whether it is judged over the seeds."""

    stem: str
    weights: str | None = None
    family: str | None = None
    regime: str | None = None
    over_seeds: bool = False


def parts(key: str) -> Parts:
    """The :class:`Parts` of a verdict's ``key``, e.g. ``mean_absolute_shared/chosen`` -> stem
    ``mean_absolute``, weights ``shared``, regime ``chosen``."""
    key, _, suffix = key.partition("/")
    regime = suffix if suffix and suffix != "seeds" else None
    over_seeds = bool(suffix)
    if key.startswith("intervention_"):
        factor, rest = key.removeprefix("intervention_").split("_", 1)
        regime, net = rest.rsplit("_", 1)
        return Parts(f"intervention_{factor}", weights=net, regime=regime, over_seeds=True)
    stem, _, last = key.rpartition("_")
    if last in NETS:
        return Parts(stem, weights=last, regime=regime, over_seeds=over_seeds)
    if last in FAMILY_NAMES:
        return Parts(stem, family=last, regime=regime, over_seeds=over_seeds)
    return Parts(key, regime=regime, over_seeds=over_seeds)


_RULES = {r.key: r for r in claims.RULES}


def subject(stem: str) -> str:
    """The claim ``stem`` names in its rule's wording, without the weights, family or regime it is
    judged for (which the sentence names): e.g. "trajectories closer within than between classes"."""
    fill = {}
    if stem in _RULES:
        rule = _RULES[stem]
    elif stem.endswith("_absolute") and stem.removesuffix("_absolute") in claims.ABSOLUTE_WHAT:
        rule, fill = claims.ABSOLUTE_SETTLING, {"what": claims.ABSOLUTE_WHAT[stem.removesuffix("_absolute")]}
    elif stem.startswith("intervention_"):
        rule, fill = claims.INTERVENTION, {"factor": stem.removeprefix("intervention_")}
    else:
        return stem.replace("_", " ")
    text = rule.claim.format(**{"net": "\0", "family": "\1", "regime": "\2", "paper": "", **fill})
    text = re.sub(r" \([^()]*[\0\1\2][^()]*\)", "", text)  # "(separate)", "(dense)", "(shared, chosen regime)"
    text = re.sub(r",? \0 weights", "", text).replace("the \1 family", "a family")
    return text.replace(": ", ", ")


def short_claim(v: Verdict) -> str:
    """The claim of verdict ``v`` as a table row names it: its rule's wording for the weights, family and
    regime it is judged for, without ", over the seeds", with a capital first letter."""
    text = v.claim.replace(claims.SEEDS.claim.format(claim=""), "")
    text = re.sub(r" \(([^()]*)\) \(([^()]*)\)$", r" (\1, \2)", text)
    return capital(text)


def capital(text: str) -> str:
    """``text`` with a capital first letter, unless its first word has one already ("t-SNE", "MNIST-1D")."""
    first = text.split(" ", 1)[0]
    return text if any(c.isupper() for c in first) else text[:1].upper() + text[1:]


# -- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ClaimsTable:
    """Verdicts as a table with the claims' wording: Markdown where a notebook or the book shows it
    (columns claim, paper, ours with the controls under it, verdict), plain text for ``str`` and
    ``repr`` (one block per claim, no line over :data:`TEXT_WIDTH`). Verdicts judged over the seeds
    leave out the paper column ("as the claim's") and the controls (the seed intervals); claims none of
    which is the paper's leave out the paper column, and a note says so."""

    verdicts: tuple[Verdict, ...]
    run: str = ""

    @property
    def over_seeds(self) -> bool:
        return bool(self.verdicts) and all(v.paper == claims.SEEDS.paper for v in self.verdicts)

    @property
    def paper(self) -> bool:
        """Whether the table has a paper column: not over the seeds, and not where no claim is the paper's."""
        return not self.over_seeds and any(v.paper != NOT_IN_PAPER for v in self.verdicts)

    @property
    def note(self) -> str:
        return "None of these claims is the paper's: the study makes them." if self.verdicts and not (
            self.over_seeds or self.paper) else ""

    def rows(self) -> list[dict[str, str]]:
        """One row per verdict: claim, paper (not over the seeds), ours, controls (not over the seeds), verdict."""
        out = []
        for v in self.verdicts:
            row = {"claim": short_claim(v)}
            if self.paper:
                row["paper"] = v.paper
            row["ours"] = label_split(v.ours) if self.over_seeds else v.ours
            if not self.over_seeds and v.controls:
                row["controls"] = v.controls
            out.append({**row, "verdict": LABEL.get(v.verdict, v.verdict)})
        return out

    def markdown(self) -> str:
        head = ["claim"] + (["paper"] if self.paper else []) + ["ours", "verdict"]
        body = [[r["claim"]] + ([r["paper"]] if self.paper else [])
                + [r["ours"] + (f"<br>*controls*: {r['controls']}" if "controls" in r else ""), f"**{r['verdict']}**"]
                for r in self.rows()]
        text = markdown_table(head, [[c.replace("|", "\\|") for c in row] for row in body]) if body else "No verdicts."
        return "\n\n".join(p for p in (f"*{self.run}*" if self.run else "", text, self.note) if p)

    def text(self) -> str:
        wrap = lambda s, lead: textwrap.fill(s, TEXT_WIDTH, initial_indent=lead, subsequent_indent="    ",  # noqa: E731
                                             break_long_words=False, break_on_hyphens=False)
        blocks = [self.run] if self.run else []
        for r in self.rows():
            blocks.append("\n".join([wrap(r["claim"], "")] + [wrap(r[k], f"  {k}: ") for k in r if k != "claim"]))
        return "\n\n".join(blocks + [self.note] * bool(self.note)) if blocks else "no verdicts"

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__


def table(verdicts, *, exp=None, run: str | None = None) -> ClaimsTable:
    """``verdicts`` (a list of :class:`resdyn.core.claims.Verdict`) as a notebook shows them: with ``exp``
    (a :class:`resdyn.studies.experiment.Setup`), its line naming the run comes first, or ``run`` where given."""
    return ClaimsTable(tuple(verdicts), run if run is not None else exp.describe() if exp is not None else "")


def claim_name(key: str) -> str:
    """The claim a verdict's ``key`` names, in its rule's words with its weights or family (no regime):
    ``distance_shared/seeds`` -> "Trajectories closer within than between classes, with shared weights"."""
    p = parts(key)
    return capital(subject(p.stem) + _variant([p]))


# -- the paragraph ---------------------------------------------------------------------------------


def claim_phrases(keys) -> list[str]:
    """The claims ``keys`` name, in their rules' words, claims that differ only in their weights or family
    said once, in the order of first appearance: ``["error_separate", "error_shared"]`` ->
    ``["15-layer net, MNIST test error, with separate and shared weights"]``."""
    by_stem: dict[str, list[Parts]] = {}
    for key in keys:
        by_stem.setdefault(parts(key).stem, []).append(parts(key))
    return [subject(stem) + _variant(ps) for stem, ps in by_stem.items()]


def listed(lead: str, phrases: list[str]) -> list[str]:
    """``phrases`` after ``lead`` as sentences ("lead: a; b."), a list that would make a sentence over
    :data:`SENTENCE_WORDS` words going on in another ("Also lead: c.")."""
    chunks: list[list[str]] = [[]]
    for phrase in phrases:
        if chunks[-1] and _words(lead + " " + " ".join(chunks[-1] + [phrase])) > SENTENCE_WORDS:
            chunks.append([])
        chunks[-1].append(phrase)
    return [capital(f"{'also ' if i else ''}{lead}: {'; '.join(c)}.") for i, c in enumerate(chunks) if c]


def _variant(ps: list[Parts]) -> str:
    """The weights or families a claim is judged for, in words: ", with separate and shared weights"."""
    weights = [w for w in NETS if any(p.weights == w for p in ps)]
    families = [f for f in FAMILY_NAMES if any(p.family == f for p in ps)]
    if weights:
        return f", with {and_list(weights)} weights"
    if families:
        return f", for the {and_list(families)} famil{'ies' if len(families) > 1 else 'y'}"
    return ""


def _sentences(lead: str, word: str, items: list[tuple[str, int]]) -> list[str]:
    """One or more sentences saying that the claims ``items`` ((text, how many claims)) have verdict
    ``word``; a list that would make a sentence over :data:`SENTENCE_WORDS` words goes on in another."""
    chunks: list[list[tuple[str, int]]] = [[]]
    for item in items:
        if chunks[-1] and _words(lead + " ".join(t for t, _ in chunks[-1] + [item])) > SENTENCE_WORDS - 12:
            chunks.append([])
        chunks[-1].append(item)
    out = []
    for i, chunk in enumerate(chunks):
        n = sum(k for _, k in chunk)
        says = SAYS[word][n > 1].format(also="also " if i else "")
        text = f"{lead}{says}: " + "; ".join(t for t, _ in chunk)
        out.append(capital(text) + ".")
    return out


def _count(verdicts: list[Verdict], where: str) -> str:
    words = [v.verdict for v in verdicts]
    n = len(words)
    if n == 1:
        return f"{where}the one claim judged here {COUNTS[words[0]][0]}."
    if len(set(words)) == 1:
        return f"{where}all {n} claims judged here {COUNTS[words[0]][1]}."
    counts = [f"{words.count(w)} {COUNTS[w][words.count(w) > 1]}" for w in claims.VERDICTS if w in words]
    return f"{where}of the {n} claims judged here, {and_list(counts)}."


def _paragraph(verdicts: list[Verdict], where: str) -> str:
    """The paragraph for ``verdicts`` of one regime (or one run): how many claims have each verdict, then
    which, a sentence for each verdict word, claims that differ only in their weights or family said once."""
    out = [capital(_count(verdicts, where))]
    for word in claims.VERDICTS:
        by_stem: dict[str, list[Parts]] = {}
        for v in verdicts:
            if v.verdict == word:
                by_stem.setdefault(parts(v.key).stem, []).append(parts(v.key))
        items = [(subject(stem) + _variant(ps), len(ps)) for stem, ps in by_stem.items()]
        if items:
            out += _sentences("", word, items)
    return " ".join(out)


def what_this_shows(verdicts, *, regime: str | None = None, exp=None) -> str:
    """What ``verdicts`` show, in Markdown: a paragraph per regime (the regime each verdict's key names,
    else ``regime``, a key of :data:`resdyn.core.claims.REGIMES`, or none) that counts the claims with
    each verdict and names them in their rules' words; which hold, which do not, which have no evidence
    because a control meets them too. With ``exp`` in quick mode, a last sentence says the verdicts are
    regression values, not the paper's results."""
    verdicts = list(verdicts)
    if not verdicts:
        return "No claim is judged here."
    by_regime: dict[str | None, list[Verdict]] = {}
    for v in verdicts:
        by_regime.setdefault(parts(v.key).regime or regime, []).append(v)
    seeds = " over the seeds" if all(parts(v.key).over_seeds for v in verdicts) else ""
    paragraphs = []
    for name in claims.in_order(by_regime, [*claims.REGIMES, None]):
        where = (f"in the {claims.regime_name(name)}{seeds}, " if name else f"{seeds.strip()}, " if seeds else "")
        paragraphs.append(_paragraph(by_regime[name], where))
    if exp is not None and getattr(exp, "quick", False):
        paragraphs[-1] += (" These verdicts come from quick mode's small data: they check that the code runs, and they "
                           "are not the results.")
    return "\n\n".join(paragraphs)


def of_section(section, record) -> str | None:
    """The paragraph of ``section`` (a :class:`resdyn.studies.sections.Section`) on what whole ``record`` (a
    :class:`resdyn.run.results.Results`) shows, as its notebook's last cell gives it: from the section's verdicts,
    its sweep's checks, or its module's ``what_this_shows``; None where the record lacks the section."""
    from resdyn.studies import sections

    rec = getattr(record, section.name, None)
    if rec is None:
        return None
    if section.claims:
        keys = set(section.claims)
        return what_this_shows([v for v in record.verdicts if v.key in keys],
                               regime="chosen" if section.target in ("paper", "seeds") else None)
    if hasattr(rec, "checks"):
        return checks_paragraph(rec.checks())
    module = getattr(sections, section.name)
    return module.what_this_shows(rec) if hasattr(module, "what_this_shows") else None


def checks_paragraph(checks) -> str:
    """A paragraph from ``checks`` ((statement, passed) pairs, e.g.
    :meth:`resdyn.studies.sections.regime.RegimeSweep.checks`): which pass and which fail, in words."""
    passed = [text for text, ok in checks if ok]
    failed = [text for text, ok in checks if not ok]
    out = []
    if passed:
        out.append(f"The check{'s' * (len(passed) > 1)} that pass{'es' * (len(passed) == 1)}: {'; '.join(passed)}.")
    if failed:
        out.append(f"The check{'s' * (len(failed) > 1)} that fail{'s' * (len(failed) == 1)}: {'; '.join(failed)}.")
    return " ".join(out) or "Nothing is checked here."


__all__ = ["SAYS", "COUNTS", "Parts", "parts", "subject", "short_claim", "ClaimsTable", "table", "what_this_shows",
           "checks_paragraph", "and_list", "capital", "claim_name", "of_section"]
