"""The mechanism association (notebook 06): Spearman's rho with a bootstrap interval over nets, and
the sentence that follows the interval (claims.ASSOCIATION, changed in issue 19)."""
from dataclasses import replace

import pytest
from records import mechanism_study

from resdyn.core import claims
from resdyn.studies.sections import mechanism as section
from resdyn.studies.sections.mechanism import Association, associations, bootstrap_rho, borderline, sentence


def test_a_monotone_relation_has_a_bootstrap_interval_of_exactly_one():
    xs = [float(i) for i in range(10)]
    assert bootstrap_rho(xs, [x ** 3 for x in xs], resamples=200) == pytest.approx((1.0, 1.0), abs=1e-12)
    assert bootstrap_rho(xs, [-x for x in xs], resamples=200) == pytest.approx((-1.0, -1.0), abs=1e-12)


def test_the_bootstrap_is_seeded_and_contains_the_estimate():
    xs = [0.1, 0.5, 0.2, 0.9, 0.4, 0.8, 0.3, 0.7, 0.6, 0.0]
    ys = [1.0, 0.2, 0.9, 0.3, 0.1, 0.4, 0.8, 0.5, 0.6, 0.7]
    a, b = bootstrap_rho(xs, ys, resamples=500, seed=3), bootstrap_rho(xs, ys, resamples=500, seed=3)
    assert a == b and a != bootstrap_rho(xs, ys, resamples=500, seed=4)
    from scipy.stats import spearmanr
    assert a[0] < spearmanr(xs, ys).statistic < a[1] and -1 <= a[0] and a[1] <= 1


def test_the_bootstrap_rejects_too_few_or_unpaired_values():
    with pytest.raises(ValueError, match="at least 3; got 2 and 2"):
        bootstrap_rho([1.0, 2.0], [1.0, 2.0], resamples=10)
    with pytest.raises(ValueError, match="of one length, at least 3; got 3 and 4"):
        bootstrap_rho([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], resamples=10)


def test_associations_carry_their_interval():
    rec = mechanism_study()
    found, verdict = associations(rec.points)
    sat = next(a for a in found if a.quantity == "saturation")
    assert sat.low is not None and sat.low <= sat.rho <= sat.high and verdict in ("saturation", "weight_ratio", "neither")


def test_the_sentence_says_borderline_where_the_interval_contains_the_threshold():
    t = claims.ASSOCIATION.thresholds["min_rho"]
    rec = replace(mechanism_study(), associations=[Association("saturation", -t - 0.002, 0.01, 19, -0.8, -0.2),
                                                   Association("weight_ratio", 0.1, 0.5, 19, -0.3, 0.4)],
                  goes_with_settling="saturation")
    assert borderline(rec.associations[0]) and not borderline(rec.associations[1])
    text = sentence(rec)
    assert text.startswith("What goes with settling: borderline.") and "**" not in text
    assert "95 % bootstrap interval [-0.80, -0.20]" in text
    clear = replace(rec, associations=[Association("saturation", -0.9, 0.001, 19, -0.95, -0.7)])
    assert sentence(clear).startswith("What goes with settling, across nets: **saturation of the deep sigmoid units**")


def test_an_older_record_without_intervals_is_never_borderline():
    assert not borderline(Association("saturation", -0.5, 0.01, 19))
    assert section.sentence(mechanism_study()).startswith("What goes with settling, across nets: **saturation")


@pytest.mark.parametrize("test_acc, said", [(0.979, True), (0.9789, False), (0.985, False)])
def test_a_net_on_the_paper_s_error_limit_is_borderline_in_the_regime_map_s_sentence(test_acc, said):
    from dataclasses import replace

    from records import point, regime_map as regime_map_record

    from resdyn.studies.sections import regime_map

    net = point("gauss_b0_unit_e20", False, "targeted", std_layer=6, test_acc=test_acc)  # the limit: 1.8 + 0.3 %
    g = replace(regime_map_record(), points=[net], both=["gauss_b0_unit_e20/separate"])
    assert ("on the limit: borderline" in regime_map.sentence(g)) is said
