import dataclasses
import json

import pytest
from records import adaptive, complete_record, fig1ab, fig1c, fig1d, seeds

from resdyn.core import claims
from resdyn.run import results
from resdyn.lib.writing import write_json
from resdyn.run.report import render
from resdyn.run.executed import compare_verdicts


def verdict_map(record):
    return {v.key: v.verdict for v in record.verdicts}


def test_verdict_rules_known_cases():
    v = verdict_map(complete_record())
    assert v["error_separate"] == "holds"  # 1.80 % vs 1.8 %
    assert v["error_shared"] == "holds"  # 1.39 % vs 1.4 %
    assert v["std_layer_separate"] == "holds" and v["std_layer_shared"] == "does not"
    assert v["mean_layer_separate"] == "holds" and v["mean_layer_shared"] == "partly"
    assert v["distance_separate"] == "holds"
    assert v["distance_shared"] == "no evidence"  # 5 of 10 below 1, but mean ratio 0.9 = the controls'
    assert v["tsne_separate"] == "holds" and v["tsne_shared"] == "no evidence"  # silhouette 0.1 < control 0.2
    assert v["adaptive_shared"] == "holds" and v["adaptive_separate"] == "n/a"  # depth 5, -0.2 points
    assert [x.verdict for x in claims.accuracy(fig1ab(acc={"separate": 0.975, "shared": 0.95}))] == ["partly", "does not"]
    settle = {x.key: x.verdict for x in claims.settling(fig1ab(std_layer={"separate": 9, "shared": 7}))}
    assert settle["std_layer_separate"] == "partly" and settle["std_layer_shared"] == "holds"
    assert claims.adaptive_depth(adaptive(final_depth=15, test_acc=0.98, full_test_acc=0.98))[1].verdict == "does not"
    # pruned to 9 but 1 point lost: neither depth nor accuracy
    assert claims.adaptive_depth(adaptive(final_depth=9, test_acc=0.97, full_test_acc=0.98))[1].verdict == "does not"


@pytest.mark.parametrize("layer, expected", [(7, "holds"), (8, "partly"), (None, "does not")])
def test_settling_rule_boundary_at_layer_seven(layer, expected):
    v = claims.settling(fig1ab(std_layer={"separate": layer, "shared": 1}, mean_layer={"separate": layer, "shared": 1}))
    assert [x.verdict for x in v if x.key.endswith("separate")] == [expected, expected]


@pytest.mark.parametrize("control, expected", [(None, "holds"), (6, "holds"), (5, "no evidence"), (2, "no evidence")])
def test_settling_needs_the_untrained_net_to_settle_two_layers_later(control, expected):
    # the trained net settles at layer 4; an untrained twin settling by layer 5 meets the claim too
    rec = fig1ab(std_layer={"separate": 4, "shared": 4}, mean_layer={"separate": 4, "shared": 4},
                 untrained_std={"separate": control, "shared": None}, untrained_mean={"separate": control, "shared": None})
    v = {x.key: x.verdict for x in claims.settling(rec)}
    assert v["std_layer_separate"] == v["mean_layer_separate"] == expected and v["std_layer_shared"] == "holds"


@pytest.mark.parametrize("trained, control, expected", [
    (0.85, 0.9, "holds"), (0.851, 0.9, "no evidence"), (0.999, 1.5, "holds"), (1.0, 1.5, "does not")])
def test_distance_rule_boundaries_and_margin(trained, control, expected):
    assert claims.distance_ratio(fig1c(ratio_sep=trained, control=control))[0].verdict == expected


def test_tsne_rule_boundaries_and_margins():
    from resdyn.studies.sections.fig1d import Separation

    at = fig1d(trained={"separate": Separation(0.9, 0.3, 10), "shared": Separation(0.8999, 0.2999, 10)},
               control=Separation(0.89, 0.25, 10))
    assert [x.verdict for x in claims.tsne_clusters(at)] == ["holds", "does not"]
    close = fig1d(trained={"separate": Separation(0.95, 0.4, 10), "shared": Separation(0.95, 0.4, 10)},
                  control=Separation(0.941, 0.36, 10))  # kNN margin 0.009 < 0.01
    assert [x.verdict for x in claims.tsne_clusters(close)] == ["no evidence"] * 2


@pytest.mark.parametrize("final_depth, diff, expected", [
    (6, -0.5, "holds"), (7, -0.5, "partly"), (6, -0.51, "partly"), (14, 0.0, "partly"), (15, 0.0, "does not")])
def test_adaptive_rule_boundaries(final_depth, diff, expected):
    a = adaptive(final_depth=final_depth, test_acc=0.98 + diff / 100, full_test_acc=0.98)
    assert claims.adaptive_depth(a)[1].verdict == expected


def test_a_censored_depth_is_inconclusive():
    v = claims.adaptive_depth(adaptive(final_depth=5, censored=True))
    assert [x.verdict for x in v] == ["n/a", "inconclusive"] and "(censored)" in v[1].ours


def test_every_rule_is_worded_from_its_thresholds():
    for rule in claims.RULES:
        text = rule.describe()
        assert "{" not in text, rule.key
    assert "0.3 points" in claims.ERROR.describe() and "5%" in claims.STD_SETTLING.describe()


def test_compare_verdicts_lists_changes():
    assert compare_verdicts(complete_record(), complete_record()) == []
    changed = compare_verdicts(complete_record(), complete_record(fig1c=fig1c(ratio_sep=1.5), adaptive=adaptive(15)))
    assert "distance_separate: holds -> does not" in changed and "adaptive_shared: holds -> does not" in changed


def _seed0_verdicts(text: str, keys) -> dict[str, tuple[str, str | None]]:
    """From a report's "Verdicts, chosen regime, seed 0 / over its n seeds" lines, a sentence per claim
    ("Claim, with separate weights: **label** / **label**."): key -> (seed 0's label, the label over the seeds)
    for each of ``keys`` that a sentence names (its rule's words, then its weights)."""
    import re

    from resdyn.studies import verdict_text

    out = {}
    for line in text.splitlines():
        if not line.startswith("Verdicts, chosen regime, seed 0"):
            continue
        for sentence in re.split(r"(?<=\*\*)\. ", line.split("untrained net). ", 1)[1].removesuffix(".")):
            claim, _, pair = sentence.rpartition(": ")
            labels = re.findall(r"\*\*([^*]+)\*\*", pair)
            for key in keys:
                p = verdict_text.parts(key)
                lead = verdict_text.capital(verdict_text.subject(p.stem)) + ", with "
                if claim.startswith(lead) and p.weights in claim.removeprefix(lead).split(" "):
                    assert key not in out, f"{key} named twice"
                    out[key] = (labels[0], labels[1] if len(labels) > 1 else None)
    return out


def _row(text: str, claim: str, after: str) -> str:
    """The table row of ``claim`` in the first table after the line that starts with ``after``."""
    rest = text[text.index(after):]
    return next(line for line in rest.splitlines() if line.startswith(f"| {claim} |"))


def test_report_renders_every_section_of_a_complete_record(tmp_path):
    from resdyn.studies import markdown
    from resdyn.run import summary
    from resdyn.studies.sections import by_regime, intervention

    record = complete_record()
    assert all(getattr(record, f.name) not in (None, []) for f in dataclasses.fields(record) if f.name != "stale"), \
        "record incomplete"
    text = render(record, report_dir=tmp_path / "paper", figures_dir=tmp_path / "figures")
    # every verdict is visible: seed 0's and the seeds' in its figure's section, each regime's in the summary's
    # table and the regimes' table, each study's in its section (the interventions' in its sentence)
    shown = _seed0_verdicts(text, {v.key.partition("/")[0] for v in record.verdicts})
    names = {}
    for v in record.verdicts:
        key, _, where = v.key.partition("/")
        if where == "seeds":
            assert shown[key][1] == summary.LABEL[v.verdict], v.key
        elif where:
            names = names or by_regime.claim_names(record.by_regime)
            regime = claims.regime_name(where)
            head = _row(text, "claim", "## Every claim in each regime").split(" | ")
            cells = _row(text, names[key], "## Every claim in each regime").split(" | ")
            assert cells[next(i for i, h in enumerate(head) if h.startswith(regime))].startswith(f"**{summary.LABEL[v.verdict]}**")
            if where in summary.HEADLINE_REGIMES:
                assert f"**{summary.LABEL[v.verdict]}**" in _row(text, names[key], "## Summary")
        elif key in shown:
            assert shown[key][0] == summary.LABEL[v.verdict], v.key
        elif key.startswith("intervention_"):
            assert intervention.summary(record.intervention) in text
        else:
            assert v.claim in text and f"**{v.verdict}**" in _row(text, v.claim, f"| claim |"), v.key
    for heading in ("## Summary", "## Training regime", "## Fig. 1A and 1B", "## Fig. 1C", "## Fig. 1D",
                    "## Adaptive depth", "Lesion check", "## Seeds", "## Why the residuals", "## Regime map",
                    "## Depth from scratch", "## The longer version's toy", "## bf16 against fp32",
                    "## Every claim in each regime", "## Appendix", "### The rules", "### The regimes",
                    "### How to re-run", "### The runs"):
        assert heading in text, heading
    for rule in claims.RULES:
        assert markdown.plain_sentences(rule.describe(), most=markdown.MOST_WORDS - markdown.LEAD_WORDS) in text
    assert "](../figures/fig1c_trajectory_distances.png)" in text
    assert "Verdicts, chosen regime, seed 0 / over its" in text  # every verdict names its regime
    seeds_section = text[text.index("## Seeds"):].split("\n## ")[0]
    assert "Which conclusions survive the seed spread: of the 16 claims, " in seeds_section
    assert "`" not in seeds_section.split("Which conclusions", 1)[1]  # claims in words, no keys
    assert "| ours, paper-like regime (" in text and "| ours, chosen regime (" in text  # the summary's two regimes
    assert "The figure sections judge the chosen regime's seed 0 against the raw input and the untrained net only" in text
    assert "Quick mode" not in text
    quick = dataclasses.replace(record, runs={"paper": dataclasses.replace(record.run, identity={**record.run.identity,
                                                                                             "mode": "quick"})})
    assert "Quick mode" in render(quick, report_dir=tmp_path, figures_dir=tmp_path)


def test_the_answer_comes_first_and_the_appendix_last(tmp_path):
    from resdyn.run import report
    from resdyn.studies.sections import SECTIONS

    text = render(complete_record(), report_dir=tmp_path / "paper", figures_dir=tmp_path / "figures")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads[0] == "## Summary" and heads[-2] == "## Every claim in each regime" and heads[-1].startswith("## Appendix")
    first_table = next(i for i, line in enumerate(text.splitlines()) if line.startswith("| "))
    assert text.splitlines()[first_table].startswith("| claim | paper | ours, paper-like regime")
    assert first_table < text.splitlines().index("## Training regime")
    # the figures and studies keep the registry's order between them
    titles = [next(line for line in report.section(s, getattr(complete_record(), s.name), tmp_path).splitlines())
              for s in SECTIONS if s.name != report.REGIMES_IN_DETAIL]
    assert [h for h in heads if h in titles] == titles


def test_a_record_of_the_paper_target_alone_puts_its_seed0_verdicts_first(tmp_path):
    from resdyn.studies.sections import SECTIONS

    record = complete_record()
    paper = [s.name for s in SECTIONS if s.target == "paper"]
    alone = dataclasses.replace(record, **{f.name: None for f in dataclasses.fields(record)
                                           if f.name not in (*paper, "verdicts", "runs", "stale")},
                                verdicts=[v for v in record.verdicts if "/" not in v.key
                                          and v.key.rsplit("_", 1)[0] in claims.SEED_CLAIMS])
    lines = render(alone, report_dir=tmp_path, figures_dir=tmp_path).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| "))
    assert lines[first] == "| claim | paper | ours (chosen regime, seed 0) | controls | verdict |"
    assert lines.index("## Summary") < first < lines.index("## Training regime")
    assert all(v.claim in "\n".join(lines) for v in alone.verdicts)


def test_the_summary_table_says_what_decided_each_verdict():
    from resdyn.run import results as results_module, summary
    from resdyn.core.paths import PAPER_DIR

    committed = results_module.load(PAPER_DIR / "results.json")
    head, rows = summary.headline(committed)
    assert head[:2] == ["claim", "paper"] and head[-1] == "what decided it" and len(rows) == 2 * len(claims.SEED_CLAIMS)
    why = {row[0]: row[-1] for row in rows}
    assert all(why.values())
    assert "the net without shortcuts never learned, so it proves nothing" in \
        why["trajectories closer within than between classes (separate)"]
    assert "the net without shortcuts also met it" in why["trajectories closer within than between classes (shared)"]
    assert "depth censored in" in why["adaptive depth, threshold 0.01 (shared)"]
    import re  # a split over the seeds reads in the plain labels, as the verdict column does
    raw = re.compile(r"\d+/\d+ (?:partly|borderline|no evidence|inconclusive|n/a|does not(?! hold))")
    assert not any(raw.search(text) for text in why.values()), why


def test_the_committed_report_is_short_with_the_summary_table_first():
    from resdyn.core.paths import PAPER_DIR

    lines = (PAPER_DIR / "REPORT.md").read_text().splitlines()
    assert len(lines) < 400
    assert lines.index("## Summary") < 12  # the staleness header stays above it
    first_table = next(i for i, line in enumerate(lines) if line.startswith("| "))
    assert lines[first_table].startswith("| claim | paper | ours, paper-like regime") and first_table < 40


@pytest.mark.parametrize("text, expected", [
    ("short; clauses.", "Short; clauses."),
    ("; ".join(["clause " + " ".join(["word"] * 20)] * 4), ". ".join(["Clause " + " ".join(["word"] * 20)] * 4) + "."),
    ("a (b; c) " + " ".join(["w"] * 70), "A (b; c) " + " ".join(["w"] * 70) + "."),  # no clause outside brackets
])
def test_plain_sentences_split_a_long_clause_list_outside_brackets(text, expected):
    from resdyn.studies.markdown import plain_sentences

    assert plain_sentences(text) == expected


def test_record_round_trips_through_json(tmp_path):
    record = complete_record()
    path = write_json(results.to_dict(record), tmp_path / "results.json")
    back = results.load(path)
    assert back == record
    bad = json.loads(path.read_text())
    bad["fig1ab"]["nets"]["shared"]["test_acc"] = "high"
    with pytest.raises(Exception, match=r"fig1ab\.nets\.shared\.test_acc"):
        results.from_dict(bad)


def test_the_markdown_table_has_four_columns_and_the_controls_under_our_number():
    from resdyn.studies import verdict_text

    table = verdict_text.table(claims.accuracy(fig1ab(acc={"separate": 0.98, "shared": 0.985}))).markdown()
    lines = table.splitlines()
    assert lines[0] == "| claim | paper | ours | verdict |" and len(lines) == 4
    assert lines[2] == "| 15-layer net, separate weights: MNIST test error | 1.8 % | 2.00 %<br>*controls*: chance: 90 % | **holds** |"


def _over(record):
    return {v.key.removesuffix("/seeds"): v for v in claims.over_seeds(record)}


def test_over_seeds_gives_the_seeds_common_verdict_far_from_the_thresholds():
    far = {"error_shared": [1.0, 1.1, 1.2], "knn_separate": [0.97, 0.98, 0.99], "silhouette_separate": [0.6] * 3,
           "knn_margin_separate": [0.07] * 3, "silhouette_margin_separate": [0.3] * 3}
    v = _over(seeds(far))
    assert v["error_shared"].verdict == "holds" and v["error_shared"].ours == "3/3 holds"
    assert v["tsne_separate"].verdict == "holds"
    assert v["tsne_shared"].verdict == "borderline"  # the default numbers 0, 1, 2 straddle every t-SNE threshold
    assert v["adaptive_separate"].verdict == "n/a"


def test_an_interval_that_contains_the_threshold_is_borderline_even_if_every_seed_holds():
    # shared: holds at most 1.4 + 0.3 = 1.7 %; every seed holds, but the t-interval of 1.5, 1.6, 1.7 reaches past 1.7
    v = _over(seeds({"error_shared": [1.5, 1.6, 1.7]}))["error_shared"]
    assert v.verdict == "borderline" and "contains its threshold: error_shared" in v.controls
    assert _over(seeds({"error_shared": [1.60, 1.61, 1.62]}))["error_shared"].verdict == "holds"


def test_seeds_that_disagree_away_from_the_thresholds_are_inconclusive():
    v = _over(seeds({"error_separate": [1.0, 1.0, 1.01]}))["error_separate"]  # verdicts: partly, holds, holds
    assert v.verdict == "inconclusive" and v.ours == "1/3 partly, 2/3 holds"


def test_settling_layers_are_judged_half_a_layer_past_the_last_accepted_one():
    never = {"std_layer_shared": [None] * 3}
    assert _over(seeds(never, {"std_layer_shared": ["does not"] * 3}))["std_layer_shared"].verdict == "does not"
    v = _over(seeds({"std_layer_shared": [6, 7, 9]}))["std_layer_shared"]
    assert v.verdict == "borderline" and "against 7.5" in v.controls
    assert _over(seeds({"std_layer_shared": [5, 6, 6]}))["std_layer_shared"].verdict == "holds"


def test_seed_thresholds_rejects_a_key_it_does_not_know():
    with pytest.raises(ValueError, match="key must be a claim of the seeds section .* got 'toy_shared'"):
        claims.seed_thresholds("toy_shared")


def test_a_seed_that_cannot_decide_makes_the_verdict_over_seeds_inconclusive():
    censored = {"adaptive_shared": ["inconclusive", "holds", "holds"]}
    wide = {"adaptive_change_shared": [-2.0, 0.0, 1.0]}  # its interval contains -0.5: borderline otherwise
    assert _over(seeds(wide, censored))["adaptive_shared"].verdict == "inconclusive"
    assert _over(seeds(wide))["adaptive_shared"].verdict == "borderline"


def _with_absolute(rec, trained: int | None, untrained: int | None):
    """``rec`` (a Fig1AB) with the std's absolute-scale settling layer of every trained / untrained net replaced."""
    def nets(group, layer):
        return {n: dataclasses.replace(d, profile=dataclasses.replace(
            d.profile, sensitivity=dataclasses.replace(d.profile.sensitivity, std_layer_absolute=layer)))
                for n, d in group.items()}
    return dataclasses.replace(rec, trained=nets(rec.trained, trained), untrained=nets(rec.untrained, untrained))


@pytest.mark.parametrize("trained, untrained, expected", [
    (3, None, "holds"), (3, 5, "holds"), (3, 4, "no evidence"), (3, 1, "no evidence"),
    (8, None, "partly"), (8, 10, "partly"), (8, 9, "no evidence"), (8, 1, "no evidence"), (None, 2, "does not")])
def test_absolute_settling_rule_judges_against_the_untrained_net_on_the_same_scale(trained, untrained, expected):
    v = {x.key: x for x in claims.absolute_settling(_with_absolute(fig1ab(), trained, untrained))}
    assert v["std_absolute_shared"].verdict == expected
    assert v["std_absolute_shared"].controls.startswith("untrained: ")
    assert v["mean_absolute_separate"].verdict == "does not"  # the fixture's class means never get there


def test_the_seeds_frame_names_each_number_in_words_and_shows_never_as_a_word():
    from resdyn.studies.markdown import show
    from resdyn.studies.sections.seeds import METRICS

    f = seeds({"std_layer_shared": [None, 7, None]}).frame()
    assert f.index.name == "number" and "std_layer_shared" not in f.index
    row = f.loc[METRICS["std_layer_shared"]]
    assert row["seed 1"] == 7 and row.isna()["seed 0"]
    assert f"| {METRICS['std_layer_shared']} | never | 7 | never |" in show(f, never=True, digits=3).data
