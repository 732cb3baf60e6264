"""resdyn.run.compare: two records' numbers field by field, and its use in `resdyn compare` and `reproduce --check`."""
import copy
import json
from dataclasses import replace

import pytest

from resdyn.run import compare, results
from resdyn.run.cli import main

from records import adaptive, complete_record, fig1c


def record(**section) -> dict:
    """A small synthetic record: a run (never compared), and ``section`` as its one section."""
    base = {"runs": {"paper": {"wall_seconds": 10.0, "machine": "AMD EPYC"}},
            "fig1c": {"trained": {"ratio": [0.5, 0.6, 0.02], "depth": 7, "verdict": "holds", "settled": True,
                                  "test_acc": 0.9850, "std_layer": 9, "seconds": 3.0, "never": None}}}
    base.update(section)
    return base


def changed(path: list, value) -> dict:
    r = record()
    d = r
    for key in path[:-1]:
        d = d[key]
    d[path[-1]] = value
    return r


def test_equal_records_are_equal_in_both_modes():
    for exact in (False, True):
        c = compare.compare(record(), copy.deepcopy(record()), exact=exact)
        assert c.ok and c.lines() == []
        assert (c.compared, c.equal, c.within, c.skipped) == (9, 9, 0, 3)  # runs' two leaves and a timing skipped


def test_a_float_within_its_tolerance_is_counted_not_listed():
    new = changed(["fig1c", "trained", "ratio"], [0.52, 0.6, 0.02])  # 4 % of 0.52: a statistic's 10 % holds it
    c = compare.compare(record(), new)
    assert c.ok and (c.equal, c.within) == (8, 1)


def test_exact_mode_lists_every_float_that_moved():
    new = changed(["fig1c", "trained", "ratio"], [0.5, 0.6, 0.02 + 1e-12])
    c = compare.compare(record(), new, exact=True)
    assert not c.ok and c.lines() == ["fig1c.trained.ratio[2]: 0.02 -> 0.020000000001"]
    assert compare.compare(record(), new).ok  # within the tolerance


def test_a_float_outside_its_tolerance_is_named_with_both_values_and_the_tolerance():
    new = changed(["fig1c", "trained", "test_acc"], 0.9550)
    c = compare.compare(record(), new)
    assert not c.ok and (c.compared, c.equal, c.within) == (9, 8, 0)
    (line,) = c.outside
    assert line.startswith("fig1c.trained.test_acc: 0.985 -> 0.955 (difference 0.03 > accuracy tolerance 0.02")


def test_a_list_element_is_compared_relative_to_its_lists_peak():
    new = changed(["fig1c", "trained", "ratio"], [0.5, 0.6, 0.05])  # 0.03 apart: 150 % of itself, 5 % of the peak
    assert compare.compare(record(), new).ok
    new = changed(["fig1c", "trained", "ratio"], [0.5, 0.6, 0.09])  # 0.07 apart: 11.7 % of the peak 0.6
    assert [line.split(":")[0] for line in compare.compare(record(), new).outside] == ["fig1c.trained.ratio[2]"]


@pytest.mark.parametrize("path, value", [(["fig1c", "trained", "depth"], 8),
                                         (["fig1c", "trained", "verdict"], "does not"),
                                         (["fig1c", "trained", "settled"], False),
                                         (["fig1c", "trained", "never"], 0.0),
                                         (["fig1c", "trained", "std_layer"], 11),
                                         (["fig1c", "trained", "std_layer"], None)])
def test_integers_strings_booleans_and_none_are_exact(path, value):
    c = compare.compare(record(), changed(path, value))
    assert not c.ok and len(c.outside) == 1 and c.outside[0].startswith(".".join(path) + ":")


def test_a_settling_layer_may_move_by_one_layer_except_in_exact_mode():
    new = changed(["fig1c", "trained", "std_layer"], 8)
    assert compare.compare(record(), new).ok
    assert not compare.compare(record(), new, exact=True).ok


def test_layer_kinds_by_name_removed_layers_are_exact_and_layer_means_within_one():
    assert compare.kind_of("seeds.summary.mean_layer_absolute_separate.mean").name == "layer"
    assert compare.kind_of("fig1ab.trained.shared.profile.sensitivity.std_layer[5]").name == "layer"
    old, new = record(), record()
    old["fig1c"]["trained"]["removed_layers"], new["fig1c"]["trained"]["removed_layers"] = [7, 6], [7, 5]
    assert compare.compare(old, new).outside == ["fig1c.trained.removed_layers[1]: 6 -> 5"]
    old, new = record(), record()
    old["fig1c"]["trained"]["mean_layer_separate"], new["fig1c"]["trained"]["mean_layer_separate"] = 3.0, 3.9
    assert compare.compare(old, new).ok
    new["fig1c"]["trained"]["mean_layer_separate"] = 4.5
    assert compare.compare(old, new).outside == [
        "fig1c.trained.mean_layer_separate: 3.0 -> 4.5 (difference 1.5 > layer tolerance 1)"]


def test_accuracies_written_in_percent_get_the_tolerance_in_percent():
    old, new = record(), record()
    old["fig1c"]["trained"]["deep_acc"], new["fig1c"]["trained"]["deep_acc"] = [88.2, 90.0], [89.9, 90.0]
    assert compare.compare(old, new).ok  # 1.7 pp within 2 pp
    new["fig1c"]["trained"]["deep_acc"] = [86.0, 90.0]
    assert not compare.compare(old, new).ok


def test_a_missing_field_or_list_element_is_listed_on_its_own():
    new = record()
    del new["fig1c"]["trained"]["depth"]
    new["fig1c"]["trained"]["ratio"].append(0.7)
    c = compare.compare(record(), new)
    assert not c.ok and c.outside == []
    assert c.missing == ["fig1c.trained.depth: 7 -> missing", "fig1c.trained.ratio[3]: missing -> 0.7"]
    assert "2 missing on one side" in c.summary()


def test_timings_and_the_runs_are_not_compared():
    new = changed(["fig1c", "trained", "seconds"], 99.0)
    new["runs"]["paper"]["machine"] = "Intel Xeon"
    assert compare.compare(record(), new, exact=True).ok


def test_sections_restrict_the_comparison_and_an_unknown_one_is_refused():
    old, new = record(other={"x": 1.0}), record(other={"x": 2.0})
    assert not compare.compare(old, new).ok
    assert compare.compare(old, new, sections=["fig1c"]).ok
    with pytest.raises(ValueError, match="no section nope"):
        compare.compare(old, new, sections=["nope"])


def test_the_summary_counts_every_field():
    new = changed(["fig1c", "trained", "ratio"], [0.52, 0.6, 0.02])
    new["fig1c"]["trained"]["depth"] = 9
    assert compare.compare(record(), new).summary() == (
        "9 fields compared within the tolerances of resdyn.run.compare.KINDS: 7 equal, 1 within their tolerance, "
        "1 outside, 0 missing on one side (3 timings and identity fields not compared)")


def test_every_float_of_a_real_record_has_a_kind_and_it_equals_itself():
    d = results.to_dict(complete_record())
    c = compare.compare(d, copy.deepcopy(d), exact=True)
    assert c.ok and c.equal == c.compared > 100
    assert compare.kind_of("fig1ab.trained.shared.profile.std_profile[3]").name == "statistic"
    assert compare.kind_of("seeds.summary.error_shared.mean").name == "percentage points"
    assert compare.kind_of("fig1d.trained.shared.knn_accuracy").name == "accuracy"


def _write(path, d):
    path.write_text(json.dumps(d))
    return str(path)


def test_the_compare_command_lists_the_fields_and_fails_on_one_outside(tmp_path, capsys):
    old = _write(tmp_path / "old.json", record())
    main(["compare", old, _write(tmp_path / "same.json", changed(["fig1c", "trained", "ratio"], [0.52, 0.6, 0.02]))])
    assert "1 within their tolerance, 0 outside" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["compare", old, str(tmp_path / "same.json"), "--exact"])
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "fig1c.trained.ratio[0]: 0.5 -> 0.52" in out and "1 outside" in out
    main(["compare", old, str(tmp_path / "same.json"), "--exact", "--sections", "runs"])  # nothing compared there


def test_reproduce_check_fails_naming_a_number_that_left_its_tolerance(tmp_path, monkeypatch, capsys):
    from resdyn.run import reproduce

    committed = _write(tmp_path / "committed.json", results.to_dict(complete_record()))
    monkeypatch.setattr(reproduce, "run", lambda **kw: complete_record())
    main(["reproduce", "--check", committed])
    out = capsys.readouterr().out
    assert "fields compared within the tolerances" in out and " 0 outside, 0 missing" in out
    assert "verdicts match" in out

    base = adaptive()  # the verdicts hold; the scratch net's accuracy moved by 0.03
    now = complete_record(adaptive=replace(base, scratch=replace(base.scratch, test_acc=base.scratch.test_acc - 0.03)))
    monkeypatch.setattr(reproduce, "run", lambda **kw: now)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--check", committed])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "Numbers that left their tolerance" in err and "adaptive.scratch.test_acc: 0.9836 -> 0.9536" in err
    assert "Verdicts changed" not in err


def test_reproduce_check_compares_only_the_targets_sections_and_exactly_on_request(tmp_path, monkeypatch, capsys):
    from resdyn.run import reproduce

    committed = _write(tmp_path / "committed.json", results.to_dict(complete_record()))
    monkeypatch.setattr(reproduce, "run", lambda **kw: complete_record(fig1c=fig1c(ratio_sep=0.5 + 1e-9)))
    main(["reproduce", "--check", committed])  # within tolerance
    with pytest.raises(SystemExit):
        main(["reproduce", "--check", committed, "--exact"])
    assert "fig1c.trained.separate.ratio[0]" in capsys.readouterr().err


def test_reproduce_check_compares_no_numbers_between_precisions(tmp_path, monkeypatch, capsys):
    from resdyn.run import reproduce

    committed = _write(tmp_path / "committed.json", results.to_dict(complete_record()))
    now = complete_record(fig1c=fig1c(ratio_sep=0.9))
    fp32 = replace(now.runs["paper"], identity={**now.runs["paper"].identity, "precision": "fp32"})
    now = replace(now, runs={**now.runs, "paper": fp32})
    monkeypatch.setattr(reproduce, "run", lambda **kw: now)
    try:
        main(["reproduce", "--check", committed])
    except SystemExit:  # a verdict may change with the ratio; numbers are not what fails
        pass
    captured = capsys.readouterr()
    assert "Numbers not compared: the paper target of the earlier record was trained in" in captured.out
    assert "Numbers that left" not in captured.err
