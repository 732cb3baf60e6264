"""The README gives the answer first: its bottom line and gallery are what the committed record gives,
it stays short, and every local link in it resolves on a fresh clone."""
import re
from dataclasses import replace

import pytest

from resdyn.run import book, results, summary
from resdyn.core import paths
from resdyn.core.claims import Verdict

README = paths.REPO_ROOT / "README.md"


def _v(key, verdict):
    return Verdict(key=key, claim=key, paper="", ours="", controls="", verdict=verdict)


def _record(verdicts):
    committed = results.load(paths.PAPER_DIR / "results.json")
    return replace(committed, verdicts=verdicts)


def test_the_readme_blocks_are_the_committed_record_s():
    text = README.read_text()
    for (start, end), block in book.readme_blocks().items():
        assert start in text and end in text, f"README.md lacks the marker {start!r}"
        got = text[text.index(start):text.index(end) + len(end)]
        assert got == block, "a generated block of README.md is stale: run `resdyn book --readme`"


def test_the_bottom_line_is_on_the_first_screen_and_short():
    text = README.read_text()
    lines = summary.bottom_line(results.load(paths.PAPER_DIR / "results.json"))
    assert 1 <= len(lines) <= 5
    assert text.index(book.BOTTOM_START) < 2500  # before any set-up or gallery
    assert all(len(line.split()) <= 60 for line in lines)
    assert len(README.read_bytes()) < 10_000
    assert (paths.REPO_ROOT / "CONTRIBUTING.md").exists()


def test_every_local_link_of_the_readme_resolves():
    for target in re.findall(r"\]\(([^)#]+)\)", README.read_text()):
        if "://" not in target:
            assert (paths.REPO_ROOT / target).exists(), f"README.md links to {target}, which a clone does not have"


def test_bottom_line_names_each_regime_s_verdict():
    lines = summary.bottom_line(_record([_v("error_separate/chosen", "holds"), _v("error_shared/chosen", "holds"),
                                        _v("error_separate/baseline", "does not"),
                                        _v("error_shared/baseline", "does not")]))
    assert lines == ["The paper's test error (about 1.8 % separate, 1.4 % shared weights): holds in the chosen "
                     "regime; does not hold in the baseline regime."]


def test_bottom_line_counts_tests_where_a_regime_is_split():
    keys = [f"{c}_{n}" for c in ("mean_layer", "std_layer", "mean_absolute", "std_absolute") for n in ("separate", "shared")]
    verdicts = [_v(f"{k}/{regime}", "does not") for k in keys for regime in ("chosen", "paper_like", "baseline")]
    verdicts[0] = _v(verdicts[0].key, "no evidence")
    lines = summary.bottom_line(_record(verdicts))
    assert lines == ["Residuals that settle after about layer 6 (Fig. 1A/1B): 0 of 24 tests over the 3 regimes hold "
                     "(23 do not hold, 1 is met by a control too)."]


def test_bottom_line_says_what_the_interventions_found_where_nets_settle():
    lines = summary.bottom_line(_record([_v("std_layer_separate/baseline", "no evidence"),
                                        _v("intervention_saturation_baseline_separate", "holds"),
                                        _v("intervention_weights_baseline_separate", "does not"),
                                        _v("intervention_saturation_chosen_separate", "inconclusive")]))
    assert lines[1] == ("Where nets do settle (baseline regime with separate weights), undoing the saturation of their "
                        "deep units removes the settling and rescaling their deep weights does not.")


def test_no_regimes_no_bottom_line():
    assert summary.bottom_line(_record([_v("error_separate", "holds")])) == []


def test_update_readme_names_the_file_without_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# a README without the generated blocks\n")
    with pytest.raises(ValueError, match=str(readme)):
        book.update_readme(readme)
    assert readme.read_text() == "# a README without the generated blocks\n"


def test_a_control_that_never_learned_is_named_beside_the_verdicts_it_could_not_meet():
    committed = results.load(paths.PAPER_DIR / "results.json")
    at_chance = {regime: [net for net in ("separate", "shared")
                          if all(run.mlp[net].test_acc < summary.CHANCE_ACCURACY for run in runs)]
                 for regime, runs in committed.by_regime.controls.items()}
    assert summary.untrained_controls(committed) == {k: v for k, v in at_chance.items() if v}
    line = next(s for s in summary.bottom_line(committed) if s.startswith("Class separation"))
    assert "the control without shortcuts never learned for separate weights in" in line


def test_no_caveat_where_every_control_learned():
    committed = results.load(paths.PAPER_DIR / "results.json")
    learned = {regime: [replace(run, mlp={net: replace(m, test_acc=0.95) for net, m in run.mlp.items()}) for run in runs]
               for regime, runs in committed.by_regime.controls.items()}
    record = replace(committed, by_regime=replace(committed.by_regime, controls=learned))
    assert summary.untrained_controls(record) == {}
    assert not any("never learned" in s for s in summary.bottom_line(record))
