"""The verdicts as readers meet them (resdyn.studies.verdict_text): the claims table names each claim in its
rule's words and fits a page, the closing paragraph says which claims hold, which do not and which a control
meets too, and every notebook with verdicts ends in that paragraph."""
from __future__ import annotations

import json
import re

import pytest
from records import complete_record
from test_generated_prose import problems

from resdyn.core import claims, paths
from resdyn.core.claims import Verdict
from resdyn.run import book
from resdyn.studies import sections, verdict_text

#: Every claim key of the registry, and the stems they are built from (``mean_absolute``, ``depth_matters``).
KEYS = {k for s in sections.SECTIONS for k in s.claims}
STEMS = {verdict_text.parts(k).stem for k in KEYS}
#: A claim key or its stem written as one word (``distance_separate``, ``mean_absolute``, ``intervention_weights``).
KEY_WORD = re.compile(r"\b(?:" + "|".join(sorted((re.escape(s) for s in STEMS if "_" in s), key=len, reverse=True))
                      + r")(?:_\w+)?\b|\b(?:" + "|".join(sorted({re.escape(k.split("/")[0]) for k in KEYS}, key=len,
                                                                   reverse=True)) + r")\b")


def v(key: str, verdict: str, claim: str = "", paper: str = "p", ours: str = "o", controls: str = "c") -> Verdict:
    return Verdict(key, claim or key, paper, ours, controls, verdict)


def _sentences_with(text: str, words: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.) ", text) if words in s]


# -- the paragraph on synthetic verdicts with known answers ----------------------------------------------------


def test_a_holding_claim_is_named_as_holding_and_one_a_control_meets_as_no_evidence():
    text = verdict_text.what_this_shows([v("distance_separate", "holds"), v("distance_shared", "no evidence")],
                                        regime="chosen")
    assert text.startswith("In the chosen regime, of the 2 claims judged here, 1 holds and 1 has no evidence because "
                           "a control meets it too.")
    assert _sentences_with(text, "This claim holds:") == [
        "This claim holds: trajectories closer within than between classes, with separate weights."]
    assert _sentences_with(text, "a control meets it too:") == [
        "This claim has no evidence, since a control meets it too: trajectories closer within than between classes, "
        "with shared weights."]


def test_claims_that_differ_only_in_their_weights_or_family_are_said_once():
    text = verdict_text.what_this_shows([v("std_layer_separate", "does not"), v("std_layer_shared", "does not"),
                                         v("depth_matters_conv", "holds"), v("depth_matters_dense", "holds")])
    assert "These claims do not hold: across-sample std of residuals near 0 after a layer, with separate and shared weights." in text
    assert "These claims hold: MNIST-1D, depth matters for a family (15 blocks against 1), for the dense and conv families." in text


def test_each_regime_gets_its_paragraph_in_the_rules_order():
    text = verdict_text.what_this_shows([v("error_shared/baseline", "does not"), v("error_shared/chosen", "holds"),
                                         v("tsne_separate/chosen", "borderline")])
    chosen, baseline = text.split("\n\n")
    assert chosen.startswith("In the chosen regime over the seeds, of the 2 claims judged here, 1 holds and 1 is borderline.")
    assert "This claim holds: 15-layer net, MNIST test error, with shared weights." in chosen
    assert "borderline, its value on the rule's threshold: t-SNE of x(T), one cluster per class, with separate weights." in chosen
    assert baseline == ("In the baseline regime over the seeds, the one claim judged here does not hold. This claim "
                        "does not hold: 15-layer net, MNIST test error, with shared weights.")


def test_the_interventions_say_which_factor_settling_goes_with():
    text = verdict_text.what_this_shows([v("intervention_saturation_paper_like_separate", "holds"),
                                         v("intervention_weights_paper_like_separate", "does not"),
                                         v("intervention_saturation_chosen_shared", "inconclusive")])
    assert "In the paper-like regime over the seeds" in text and "In the chosen regime over the seeds" in text
    assert "This claim holds: settling goes with saturation, by intervention, with separate weights." in text
    assert "This claim does not hold: settling goes with weights, by intervention, with separate weights." in text
    assert "This claim cannot be decided: settling goes with saturation, by intervention, with shared weights." in text


def test_one_verdict_for_all_reads_all():
    text = verdict_text.what_this_shows([v("tsne_separate", "holds"), v("tsne_shared", "holds")])
    assert text.startswith("All 2 claims judged here hold. These claims hold: t-SNE of x(T), one cluster per class, "
                           "with separate and shared weights.")


def test_quick_mode_says_so_and_nothing_judged_says_so():
    quick = type("Exp", (), {"quick": True})()
    assert verdict_text.what_this_shows([v("toy_shared", "n/a")], exp=quick).endswith(
        "These verdicts come from quick mode's small data: they check that the code runs, and they are not the results.")
    assert verdict_text.what_this_shows([]) == "No claim is judged here."


@pytest.mark.parametrize("entry", [s for s in sections.SECTIONS if s.verdicts], ids=lambda s: s.name)
def test_the_paragraph_of_every_section_has_no_key_no_boolean_and_short_sentences(entry):
    verdicts = entry.verdicts(getattr(complete_record(), entry.name))
    text = verdict_text.what_this_shows(verdicts, regime="chosen", exp=type("Exp", (), {"quick": True})())
    assert not KEY_WORD.search(text), KEY_WORD.search(text)
    assert not re.search(r"\b(?:True|False|None)\b", text)
    assert problems(text) == []
    assert all(verdict_text.subject(verdict_text.parts(x.key).stem).lower() in text.lower() for x in verdicts)


def test_a_long_list_goes_on_in_a_sentence_of_its_own():
    many = [v(f"{stem}_{net}/chosen", "does not") for stem in ("mean_layer", "std_layer", "mean_absolute",
                                                               "std_absolute", "distance", "tsne") for net in claims.NETS]
    text = verdict_text.what_this_shows(many)
    assert "These claims also do not hold:" in text and problems(text) == []


def test_the_checks_paragraph_says_what_passes_and_what_fails():
    assert verdict_text.checks_paragraph([("chosen beats the baseline", True), ("chosen beats its rival", False)]) == (
        "The check that passes: chosen beats the baseline. The check that fails: chosen beats its rival.")


# -- the table ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", [s for s in sections.SECTIONS if s.verdicts], ids=lambda s: s.name)
def test_no_claim_key_appears_in_the_table_and_its_text_fits_a_page(entry):
    table = verdict_text.table(entry.verdicts(getattr(complete_record(), entry.name)),
                               run="quick mode (scikit-learn's 8x8 digits, seed 0)")
    for text in (str(table), table.markdown(), repr(table)):
        assert not KEY_WORD.search(text), KEY_WORD.search(text)
    assert all(len(line) <= verdict_text.TEXT_WIDTH for line in str(table).splitlines())
    head = table.markdown().split("\n\n")[1].splitlines()[0]
    assert head in ("| claim | paper | ours | verdict |", "| claim | ours | verdict |")
    assert (head == "| claim | ours | verdict |") is (entry.name in ("seeds", "by_regime", "depth1d", "criteria1d",
                                                                    "intervention"))
    assert str(table).endswith("None of these claims is the paper's: the study makes them.") is (
        entry.name in ("depth1d", "criteria1d", "intervention"))


def test_the_table_shows_each_verdict_by_its_plain_label_and_the_seeds_split_in_labels_too():
    one = verdict_text.table([v("distance_shared", "no evidence"), v("error_separate", "borderline")])
    assert [r["verdict"] for r in one.rows()] == ["met by a control too", "on its threshold"]
    assert "**met by a control too**" in one.markdown() and "verdict: on its threshold" in str(one)
    seeds = verdict_text.table([v("error_separate/seeds", "inconclusive", paper=claims.SEEDS.paper,
                                  ours="2/5 partly, 3/5 does not")])
    assert seeds.rows()[0]["ours"] == "2/5 holds in part, 3/5 does not hold"
    assert seeds.rows()[0]["verdict"] == "cannot be decided"


@pytest.mark.parametrize("split, shown", [
    ("5/5 holds", "5/5 holds"), ("1/3 holds, 2/3 no evidence", "1/3 holds, 2/3 met by a control too"),
    ("4/5 inconclusive, 1/5 partly", "4/5 cannot be decided, 1/5 holds in part"),
    ("", ""), ("depth 6 of 15", "depth 6 of 15"),  # not a split: as it is
])
def test_a_split_over_the_seeds_reads_in_the_plain_labels(split, shown):
    assert verdict_text.label_split(split) == shown


def test_claims_that_differ_only_in_their_weights_are_one_phrase_in_the_order_first_named():
    assert verdict_text.claim_phrases(["error_separate", "mean_layer_shared", "error_shared"]) == [
        "15-layer net, MNIST test error, with separate and shared weights",
        "class-mean residuals stop changing after a layer, with shared weights"]


def test_a_listing_too_long_for_one_sentence_goes_on_in_another():
    from resdyn.studies.markdown import _words

    phrases = [f"claim number {w} of a list that is long enough to need two sentences" for w in "abcdef"]
    said = verdict_text.listed("holding in no seed", phrases)
    assert len(said) > 1 and said[0].startswith("Holding in no seed: claim number a")
    assert all(s.startswith("Also holding in no seed: ") for s in said[1:])
    assert all(_words(s) <= verdict_text.SENTENCE_WORDS for s in said)
    assert "; ".join(s.split(": ", 1)[1].removesuffix(".") for s in said) == "; ".join(phrases)  # none lost
    assert verdict_text.listed("in every seed", ["one claim"]) == ["In every seed: one claim."]


def test_a_claim_s_wording_is_its_rule_s_for_its_weights_and_regime():
    key = "mean_absolute_shared/chosen"
    verdict = next(x for x in sections.by_regime.verdicts(complete_record().by_regime) if x.key == key)
    assert verdict_text.short_claim(verdict) == ("On the paper's absolute scale: class-mean residuals stop changing "
                                                 "after a layer (shared, chosen regime)")
    assert verdict_text.claim_name("tsne_shared/seeds") == "t-SNE of x(T), one cluster per class, with shared weights"
    assert verdict_text.parts(key) == verdict_text.Parts("mean_absolute", weights="shared", regime="chosen",
                                                         over_seeds=True)


def test_every_claim_of_the_registry_has_a_subject_in_its_rule_s_words():
    for stem in STEMS:
        text = verdict_text.subject(stem)
        assert text and not re.search(r"[{}\x00-\x02]|  ", text) and "_" not in text, (stem, text)


# -- the notebooks -----------------------------------------------------------------------------------------


def _cells(notebook: str) -> list[dict]:
    return json.loads((paths.NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text())["cells"]


@pytest.mark.parametrize("entry", [s for s in sections.SECTIONS if s.claims], ids=lambda s: s.notebook)
def test_every_notebook_with_verdicts_ends_in_the_paragraph_on_what_they_show(entry):
    *_, heading, last = _cells(entry.notebook)
    assert "".join(heading["source"]).startswith("## What this shows")
    source = "".join(last["source"])
    assert last["cell_type"] == "code" and "verdict_text.what_this_shows(" in source
    assert source.startswith("# NBVAL_CHECK_OUTPUT\n")
    markdown = [o["data"]["text/markdown"] for o in last["outputs"] if "text/markdown" in o.get("data", {})]
    assert len(markdown) == 1 and "claims judged here" in "".join(markdown[0])


@pytest.mark.parametrize("entry", [s for s in sections.SECTIONS if s.claims], ids=lambda s: s.notebook)
def test_no_claim_key_appears_in_a_notebook_s_stored_outputs_or_its_prose(entry):
    for cell in _cells(entry.notebook):
        texts = ["".join(cell["source"])] if cell["cell_type"] == "markdown" else []
        for o in cell.get("outputs", []):
            texts += ["".join(o.get("text", ""))] + ["".join(t) for t in o.get("data", {}).values()]
        for text in texts:
            assert not KEY_WORD.search(text), (entry.notebook, KEY_WORD.search(text))
            assert "rounded for nbval" not in (text if cell["cell_type"] == "markdown" else "")


# -- the book ----------------------------------------------------------------------------------------------


def test_the_book_moves_the_provenance_to_the_end_and_adds_a_missing_paragraph():
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell("# 15"), new_markdown_cell("## Where each unit ran"),
                             new_code_cell("Markdown(table(*sections.regime_units.provenance(units)))"),
                             new_markdown_cell("## Each claim"), new_code_cell("verdicts")])
    section = sections.section("fig1c")
    book._what_this_shows(nb, section, complete_record())
    book._provenance_last(nb)
    assert [c.source.splitlines()[0] for c in nb.cells] == [
        "# 15", "## Each claim", "verdicts", "## What this shows", "## Where each unit ran",
        "Markdown(table(*sections.regime_units.provenance(units)))"]
    assert "trajectories closer within than between classes" in nb.cells[3].source
    nbformat.validate(nb)
    again = len(nb.cells)
    book._what_this_shows(nb, section, complete_record())  # the paragraph is there already: nothing added
    assert len(nb.cells) == again


def test_in_the_book_the_regimes_page_ends_with_where_each_unit_ran(tmp_path):
    import nbformat

    if not (paths.EXECUTED_DIR / "15_claims_by_regime.ipynb").exists():
        pytest.skip("no executed notebook 15 in paper/notebooks")
    src = book.write_sources(tmp_path)
    cells = nbformat.read(src / "paper" / "notebooks" / "15_claims_by_regime.ipynb", as_version=4).cells
    headings = [c.source.splitlines()[0] for c in cells if c.cell_type == "markdown"]
    assert headings[-1] == "## Where each unit ran" and headings[-2] == "## What this shows"


# -- the paragraphs of the notebooks without verdicts ------------------------------------------------------


def test_the_mechanism_s_paragraph_says_borderline_where_the_named_quantity_is():
    from resdyn.studies.sections import mechanism

    sat = mechanism.Association("saturation", -0.65, 0.01, 49, -0.8, -0.55)
    near = mechanism.Association("weight_ratio", 0.3, 0.04, 49, -0.1, 0.55)
    on = mechanism.Association("saturation", -0.55, 0.01, 49, -0.7, -0.3)
    study = lambda goes, assoc: type("M", (), {"goes_with_settling": goes, "associations": assoc})()  # noqa: E731
    text = mechanism.what_this_shows(study("saturation", [sat, near]))
    assert text.startswith("Across the 49 trained nets, settling goes with the saturation of the deep sigmoid units")
    assert "The bootstrap interval of the shrinking of the deep weights contains the rule's threshold too: borderline." in text
    text = mechanism.what_this_shows(study("saturation", [on]))
    assert "names the saturation of the deep sigmoid units as what goes with settling, but its bootstrap interval " \
           "contains the rule's threshold: borderline." in text and "settling goes with" not in text
    text = mechanism.what_this_shows(study("neither", [on, near]))
    assert "neither the saturation" in text and "The bootstrap intervals of the saturation of the deep sigmoid units " \
           "and of the shrinking of the deep weights contain the rule's threshold: borderline." in text
    assert problems(text) == []


def test_every_section_without_verdicts_but_the_toy_s_has_a_paragraph_from_its_record():
    record = complete_record()
    for entry in sections.SECTIONS:
        if entry.claims:
            continue
        text = verdict_text.of_section(entry, record)
        assert text and problems(text) == [] and not re.search(r"\b(?:True|False|None)\b", text), (entry.name, text)
