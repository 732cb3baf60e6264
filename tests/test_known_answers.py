"""Known answers for what mutation testing found unchecked ([tool.mutmut] in pyproject.toml): the
verdict rules on their boundaries and against controls that differ, the verdict rows' wording, the
checked-cell table, the censoring and pruning boundaries, and settling layers on an absolute scale.
Every expected value is worked out in the comment next to it."""
import re
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from catalogue import bias_ladder, constant_bias, input_then_constant
from records import NETS, adaptive, complete_record, distances, fig1ab, fig1c, fig1d, toy

from resdyn.core import claims
from resdyn.core.data import Split, balanced_subset
from resdyn.core.model import DenseResNet, ModelConfig, Trajectory
from resdyn.core.dynamics import class_residual_stats, settling_layer, trajectory_distances
from resdyn.lib.embedding import cluster_separation, pca_initialization, tsne_embedding
from resdyn.studies.sections.fig1d import Separation
from resdyn.core.pruning import AdaptiveDepthConfig, check_depth, criterion_profile, probe_set, stop_depth
from resdyn.studies.sections.common import censored_depth

# -- Fig. 1C: how many classes, and the margin against the better control ----------------------


@pytest.mark.parametrize("ratio, raw, untrained, expected", [
    ([0.5] * 5 + [1.02] * 5, 0.9, 0.9, "partly"),     # 5 of 10 below 1 is half; mean 0.76 <= 0.9 - 0.05
    ([0.5] * 4 + [1.5] * 6, 0.9, 0.9, "does not"),    # 4 of 10 is less than half
    ([0.7, 0.9], 0.85, 0.85, "holds"),                # mean exactly 0.8 = 0.85 - 0.05: on the margin
    ([0.8] * 10, 0.84, 1.2, "no evidence"),           # 0.8 > 0.84 - 0.05: the raw input is as good
    ([0.8] * 10, 1.2, 0.84, "no evidence"),           # the same with the roles swapped
])
def test_distance_rule_boundaries_against_each_control(ratio, raw, untrained, expected):
    f = replace(fig1c(ratio_sep=ratio), raw=distances(raw), untrained={n: distances(untrained) for n in NETS})
    assert claims.distance_ratio(f)[0].verdict == expected


# -- Fig. 1D: each margin on its own, against both controls -------------------------------------


@pytest.mark.parametrize("trained, expected", [
    (Separation(0.95, 0.24, 10), "no evidence"),   # kNN beats 0.80 by 0.15, silhouette 0.24 < 0.20 + 0.05
    (Separation(0.805, 0.5, 10), "no evidence"),   # silhouette beats 0.20 by 0.3, kNN 0.805 < 0.80 + 0.01
    (Separation(0.95, 0.25, 10), "partly"),        # both margins met exactly; kNN >= 0.9, silhouette < 0.3
    (Separation(0.81, 0.3, 10), "partly"),         # both margins met exactly; silhouette >= 0.3 only
])
def test_tsne_rule_each_margin(trained, expected):
    f = fig1d(trained={n: trained for n in NETS}, control=Separation(0.8, 0.2, 10))
    assert [v.verdict for v in claims.tsne_clusters(f)] == [expected, expected]


def test_tsne_rule_beats_both_controls():
    # far above the raw input (0.80 / 0.20), but kNN 0.945 < 0.94 + 0.01 of the other control
    strong, weak = Separation(0.94, 0.2, 10), Separation(0.8, 0.2, 10)
    f = fig1d(trained={n: Separation(0.945, 0.4, 10) for n in NETS}, control=weak)
    assert [v.verdict for v in claims.tsne_clusters(replace(f, untrained={n: strong for n in NETS}))] == \
        ["no evidence"] * 2
    assert [v.verdict for v in claims.tsne_clusters(replace(f, raw=strong))] == ["no evidence"] * 2
    assert [v.verdict for v in claims.tsne_clusters(f)] == ["holds"] * 2


# -- the rows say what was measured, for the right net --------------------------------------------


def test_every_verdict_names_its_net():
    """Each verdict names the net (paper) or the MNIST-1D family it judges, in its key and its claim."""
    from resdyn.lib.zoo import FAMILY_NAMES

    for v in complete_record().verdicts:
        net = v.key.split("/")[0].rsplit("_", 1)[1]  # a suffix names the seeds or the regime
        named = re.search(rf"\b{net}\b", v.claim)  # "dense" is not named by "dense256"
        assert net in (*NETS, *FAMILY_NAMES) and named and "None" not in v.claim, (v.key, v.claim)


def test_settling_rows_name_the_layer_or_never():
    rows = {v.key: v for v in claims.settling(fig1ab(std_layer={"separate": 4, "shared": None},
                                                      mean_layer={"separate": 6, "shared": 12},
                                                      untrained_std={"separate": 9, "shared": None},
                                                      untrained_mean={"separate": None, "shared": 14}))}
    assert rows["std_layer_separate"].ours == "layer 4 of 15"
    assert rows["std_layer_separate"].controls == "untrained: layer 9 of 15; input spread 0.95"
    assert rows["std_layer_shared"].ours == "never"
    assert rows["std_layer_shared"].controls == "untrained: never; input spread 0.95"
    assert rows["mean_layer_separate"].ours == "after layer 6 of 15"
    assert rows["mean_layer_separate"].controls == "untrained: never"
    assert rows["mean_layer_shared"].controls == "untrained: after layer 14 of 15"


@pytest.mark.parametrize("separate_acc, expected", [
    (0.9790, "borderline"),  # error 2.10 % = 1.8 + 0.3: on the holds limit, as printed
    (0.9791, "holds"),       # 2.09 %: under it
    (0.9789, "partly"),      # 2.11 %: above it, under 1.8 + 1.0
    (0.9720, "borderline"),  # 2.80 % = 1.8 + 1.0: on the partly limit
    (0.9719, "does not"),    # 2.81 %
])
def test_a_single_net_s_error_on_a_limit_is_borderline(separate_acc, expected):
    rows = claims.accuracy(fig1ab(acc={"separate": separate_acc, "shared": 0.9861}))
    assert rows[0].key == "error_separate" and rows[0].verdict == expected
    assert rows[1].verdict == "holds"  # shared: 1.39 % against 1.4 + 0.3


@pytest.mark.parametrize("value, limit, expected", [
    (2.10, 2.1, True), (2.104, 2.1, True), (2.096, 2.1, True),  # 2.10 as printed
    (2.106, 2.1, False), (2.094, 2.1, False), (2.8 - 1e-9, 2.8, True),
])
def test_a_value_is_on_its_limit_where_the_two_print_the_same_to_the_hundredth(value, limit, expected):
    assert claims.on_limit(value, limit) is expected


def test_accuracy_adaptive_and_toy_rows():
    assert [v.controls for v in claims.accuracy(fig1ab())] == ["chance: 90 %"] * 2
    rows = claims.adaptive_depth(adaptive(final_depth=5, test_acc=0.98, full_test_acc=0.982))
    assert [v.paper for v in rows] == ["not reported for MNIST", claims.ADAPTIVE.paper]
    assert rows[1].ours == "depth 5 of 15, accuracy -0.20 points"  # not censored: no mark
    censored = claims.adaptive_depth(adaptive(final_depth=5, test_acc=0.98, full_test_acc=0.982, censored=True))
    assert censored[1].ours == "depth 5 of 15 (censored), accuracy -0.20 points"
    assert [v.ours for v in claims.toy_verdicts(toy())] == ["depth 5 of 15, test accuracy 100.0 %"] * 2


def test_verdict_to_dict_round_trips():
    v = claims.accuracy(fig1ab())[0]
    assert claims.Verdict(**v.to_dict()) == v and v.to_dict()["verdict"] == v.verdict


# -- the table a notebook's checked cell prints -------------------------------------------------


def test_verdict_table_of_a_record_uses_its_registered_rule():
    from resdyn.studies import sections, verdict_text

    exp = SimpleNamespace(describe=lambda: "full run, seed 0")
    f = fig1ab()
    assert sections.verdict_table(exp, f) == verdict_text.ClaimsTable(
        tuple(claims.accuracy(f) + claims.settling(f) + claims.absolute_settling(f)), "full run, seed 0")
    c, d, a, t = fig1c(), fig1d(), adaptive(), toy()
    for record, rule in ((c, claims.distance_ratio), (d, claims.tsne_clusters), (a, claims.adaptive_depth),
                         (t, claims.toy_verdicts)):
        table = sections.verdict_table(exp, record)
        assert table == verdict_text.table(rule(record), exp=exp)
        assert str(table).startswith("full run, seed 0\n\n") and table.markdown().startswith("*full run, seed 0*\n\n|")
    assert verdict_text.table(claims.toy_verdicts(t)).run == ""
    with pytest.raises(TypeError, match="record must be a section record"):
        sections.verdict_table(exp, object())


def test_the_table_names_each_claim_in_its_rule_s_words_one_block_per_claim():
    from resdyn.studies import verdict_text

    text = str(verdict_text.table(claims.settling(fig1ab())))
    blocks = text.split("\n\n")
    assert blocks[0].splitlines()[0] == "Class-mean residuals stop changing after a layer (separate)"
    labels = set(verdict_text.LABEL.values())
    assert [b.splitlines()[-1].removeprefix("  verdict: ") in labels for b in blocks] == [True] * 4
    assert all(line == line.rstrip() and len(line) <= verdict_text.TEXT_WIDTH for line in text.splitlines())


# -- adaptive depth: censoring and the check on their boundaries ---------------------------------


@pytest.mark.parametrize("criteria, expected", [
    ([0.01, 0.01, 0.02], (False, False)),  # a check exactly at the threshold is not under it
    ([0.02, 0.02, 0.01], (False, False)),  # nor is the last criterion
])
def test_censored_depth_threshold_is_strict(criteria, expected):
    assert censored_depth(criteria, 0.01, 2, 14) == expected


def test_check_depth_threshold_is_strict_and_min_depth_binds():
    model = constant_bias(width=6, depth=5).model  # the criterion is exactly 0 at every depth
    x = torch.rand(8, 6, generator=torch.Generator().manual_seed(0))
    assert check_depth(model, x, AdaptiveDepthConfig(threshold=0.0)).removed == []  # 0 is not below 0
    check = check_depth(model, x, AdaptiveDepthConfig(threshold=1e-6, min_depth=3, max_removals_per_check=10))
    assert check.model.depth == 3 and [r.removed_layers for r in check.removed] == [(5,), (4,)]
    assert [r.criterion for r in check.removed] == [0.0, 0.0] and check.criterion == 0.0


def test_check_depth_records_the_criterion_and_folds_when_asked():
    # bias ladder (-2, 0.5, 0.5, 0.6): c(4) = mean_i sigma(0.6 + 0.1 i) - sigma(0.5 + 0.1 i) > 0
    case = bias_ladder(biases=(-2.0, 0.5, 0.5, 0.6))
    x = torch.rand(6, 4, generator=torch.Generator().manual_seed(0))
    check = check_depth(case.model, x, AdaptiveDepthConfig(threshold=1.0, min_depth=3), epoch=2)
    r = case.residuals
    assert check.criterion == pytest.approx(float((r[3] - r[2]).abs().mean()), abs=1e-7)
    assert [(p.criterion, p.epoch, p.folded_bias) for p in check.removed] == [(check.criterion, 2, False)]
    # input_then_constant: layers 2.. give sigma(b) for every input, so folding them keeps the logits
    model = input_then_constant(width=5, depth=4).model
    x = torch.rand(10, 5, generator=torch.Generator().manual_seed(1))
    cfg = AdaptiveDepthConfig(threshold=1e-6, max_removals_per_check=10, fold_bias=True)
    folded = check_depth(model, x, cfg)
    assert folded.model.depth == 2 and all(p.folded_bias for p in folded.removed)
    torch.testing.assert_close(folded.model(x), model(x), rtol=0, atol=1e-5)
    plain = check_depth(model, x, replace(cfg, fold_bias=False))
    assert not any(p.folded_bias for p in plain.removed)
    assert not torch.allclose(plain.model(x), model(x), atol=1e-3)


@pytest.mark.parametrize("profile, min_depth, expected", [
    ([0.5, 0.001, 0.02, 0.001, 0.003], 2, 4),  # c(6) = 0.003, c(5) = 0.001 below; c(4) = 0.02 stops at 4
    ([0.5, 0.01], 2, 3),                        # c(3) = 0.01 is not below 0.01: nothing removed
    ([0.5, 0.001, 0.001, 0.02], 2, 5),          # c(5) = 0.02 stops at once, whatever comes before
    ([0.001] * 4, 2, 2),                        # always below: down to min_depth
    ([0.001] * 4, 4, 4),
])
def test_stop_depth_known_answers(profile, min_depth, expected):
    profile = torch.tensor(profile, dtype=torch.float64)  # 0.01 exactly as the threshold
    assert stop_depth(profile, AdaptiveDepthConfig(threshold=0.01, min_depth=min_depth)) == expected


def test_stop_depth_is_where_repeated_checks_end():
    # bias ladder: c(t) = mean_i |sigma(b(t) + 0.1 i) - sigma(b(t-1) + 0.1 i)| for every input:
    # about 0.4 at t = 2, 0 at t = 3 and 5, about 0.024 at t = 4
    model = bias_ladder(biases=(-2.0, 0.5, 0.5, 0.6, 0.6)).model
    x = torch.rand(6, 4, generator=torch.Generator().manual_seed(0))
    for threshold, expected in ((0.01, 4), (0.1, 2)):
        cfg = AdaptiveDepthConfig(threshold=threshold, min_depth=2, max_removals_per_check=1)
        net = model
        while (check := check_depth(net, x, cfg)).removed:
            net = check.model
        assert net.depth == expected
        assert stop_depth(criterion_profile(model, x), cfg) == expected


def test_probe_set_counts_the_classes_present_and_uses_the_seed():
    def split(labels):
        y = torch.tensor(labels)
        return Split(x=torch.arange(len(y), dtype=torch.float32)[:, None], y=y)

    gap = split([0] * 4 + [2] * 4)  # no class 1: two classes of 4, so 4 // 2 = 2 each
    x = probe_set(gap, AdaptiveDepthConfig(probe_size=4), seed=0).flatten()
    assert len(x) == 4 and int((x < 4).sum()) == 2  # samples 0..3 are class 0
    single = split([0, 0, 0, 1, 2, 2, 2])  # class 1 has one sample: one per class
    assert len(probe_set(single, AdaptiveDepthConfig(probe_size=9), seed=0)) == 3
    ten = split([0] * 10 + [1] * 10)
    a, b = (probe_set(ten, AdaptiveDepthConfig(probe_size=4), seed=s) for s in (0, 1))
    assert torch.equal(b, balanced_subset(ten, 2, seed=1).x) and not torch.equal(a, b)


@pytest.mark.parametrize("probe_size", [0, 1.5])
def test_probe_size_must_be_a_positive_integer(probe_size):
    with pytest.raises(ValueError, match=f"probe_size must be an integer >= 1, got {probe_size!r}"):
        AdaptiveDepthConfig(probe_size=probe_size)
    assert AdaptiveDepthConfig(probe_size=1).probe_size == 1


def test_probe_set_of_fewer_samples_than_classes_takes_one_per_class(digits):
    x = probe_set(digits.train, AdaptiveDepthConfig(probe_size=5), seed=0)  # 5 // 10 classes = 0 -> 1 each
    assert x.shape == (10, 64)


# -- settling layers on an absolute scale --------------------------------------------------------


def test_settling_layer_absolute_replaces_the_fraction_of_the_peak():
    profile = [0.5, 0.02, 0.009, 0.012, 0.005, 0.001]
    assert settling_layer(torch.tensor(profile)) == 2  # 5 % of the peak 0.5 is 0.025
    assert settling_layer(torch.tensor(profile), absolute=0.01) == 5  # 0.012 at layer 4 is above 0.01
    assert settling_layer(profile, absolute=0.01) == 5  # a list is taken as a tensor
    assert settling_layer(torch.tensor(profile), absolute=0.0001) is None
    assert settling_layer(torch.tensor(profile), absolute=1.0) == 1  # everything is below 1


def test_settling_layer_threshold_is_strict():
    assert settling_layer(torch.tensor([0.5, 0.01, 0.001]), absolute=0.01) == 3  # 0.01 is not below 0.01
    assert settling_layer(torch.tensor([1.0, 0.25, 0.1]), fraction=0.25) == 3  # 0.25 is not below 25 % of 1


@pytest.mark.parametrize("absolute", [0.0, -0.01])
def test_settling_layer_absolute_must_be_positive(absolute):
    with pytest.raises(ValueError, match=f"absolute must be None or a number > 0, got {absolute!r}"):
        settling_layer(torch.tensor([1.0, 0.1]), absolute=absolute)


@pytest.mark.parametrize("profile, kwargs, message", [
    (torch.zeros(2, 3), {}, r"profile must have shape \(T,\), got \(2, 3\)"),
    (torch.zeros(0), {}, r"profile must have shape \(T,\), got \(0,\)"),
    (torch.ones(3), {"fraction": 0.0}, r"fraction must be in \(0, 1\), got 0.0"),
    (torch.ones(3), {"fraction": 1.0}, r"fraction must be in \(0, 1\), got 1.0"),
    (torch.ones(3), {"fraction": 1.5}, r"fraction must be in \(0, 1\), got 1.5"),
])
def test_settling_layer_bad_inputs(profile, kwargs, message):
    with pytest.raises(ValueError, match=message):
        settling_layer(profile, **kwargs)


def test_settling_layer_of_one_layer():
    assert settling_layer(torch.tensor([0.5]), absolute=1.0) == 1 and settling_layer(torch.tensor([0.5])) is None


# -- distances and cluster separation: every field, against the reference computation ------------


def test_distances_keep_labels_and_classes_and_check_the_shape():
    labels = torch.tensor([2, 0, 2, 0])
    d = trajectory_distances(torch.rand(4, 3, 2, generator=torch.Generator().manual_seed(0)), labels)
    assert torch.equal(d.labels, labels) and d.labels is not labels and torch.equal(d.classes, torch.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"residuals must have shape \(n, T, N\), got \(4, 3\)"):
        class_residual_stats(torch.zeros(4, 3), labels)


def _blobs():
    # two overlapping classes: the kNN accuracy depends on k, the folds and the shuffle
    g = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    return g.normal(size=(60, 2)) + 0.8 * y[:, None], y


def test_cluster_separation_is_the_seeded_stratified_knn_score():
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    emb, y = _blobs()
    for kwargs, (k, folds, seed) in (({}, (10, 5, 0)), ({"k": 3, "folds": 3, "seed": 7}, (3, 3, 7))):
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        acc = cross_val_score(KNeighborsClassifier(n_neighbors=k), emb, y, cv=cv).mean()
        got = cluster_separation(emb, torch.tensor(y), **kwargs)
        assert (got.knn_accuracy, got.k) == (float(acc), k)
        assert got.silhouette == float(silhouette_score(emb, y))


def test_tsne_embedding_is_opentsne_with_the_given_options():
    from openTSNE import TSNE

    from openTSNE.initialization import pca
    from scipy.spatial.distance import cdist

    x = torch.tensor(_blobs()[0].repeat(3, axis=1), dtype=torch.float32)  # (60, 6); (n - 1) / 3 = 19.67
    data = x.numpy().astype(np.float64)
    init = pca_initialization(data, seed=0)
    np.testing.assert_allclose(init, pca(data, random_state=0), rtol=1e-9, atol=1e-15)  # openTSNE's own, to rounding
    ref = TSNE(n_components=2, perplexity=19.6, random_state=0, n_jobs=1, verbose=False, n_iter=20,
               metric="precomputed", initialization=init)
    distances = torch.cdist(torch.from_numpy(data), torch.from_numpy(data), compute_mode="donot_use_mm_for_euclid_dist")
    np.testing.assert_allclose(distances.numpy(), cdist(data, data), rtol=1e-12, atol=1e-12)
    ref = np.asarray(ref.fit(distances.numpy()))
    got = tsne_embedding(x, perplexity=19.6, n_iter=20)  # seed 0 by default
    assert got.shape == (60, 2) and np.array_equal(got, ref)
    assert tsne_embedding(x, perplexity=0.5, n_iter=20).shape == (60, 2)  # any perplexity above 0
    with pytest.raises(ValueError, match=r"x must have shape \(n, features\) or \(n, \*shape\) with n >= 1, got \(60,\)"):
        tsne_embedding(x[:, 0])
    # the default perplexity 30 needs n >= 92: (92 - 1) / 3 = 30.33
    x92 = x.repeat(2, 1)[:92]
    fast = {"n_iter": 10, "early_exaggeration_iter": 10}
    d92 = x92.numpy().astype(np.float64)
    ref = TSNE(n_components=2, perplexity=30.0, random_state=0, n_jobs=1, verbose=False, metric="precomputed",
               initialization=pca_initialization(d92, seed=0), **fast)
    assert np.array_equal(tsne_embedding(x92, **fast), np.asarray(ref.fit(cdist(d92, d92))))
    for bad in (0.0, 59 / 3):
        with pytest.raises(ValueError, match=r"perplexity must be in \(0, \(n - 1\) / 3\) = \(0, 19.7\)"):
            tsne_embedding(x, perplexity=bad)


# -- the model's contract: defaults, truncation, argument checks ---------------------------------


def test_default_seed_is_zero_and_truncation_keeps_only_the_kept_layers():
    cfg = ModelConfig(width=6, depth=4, n_classes=2)
    default, zero = DenseResNet(cfg), DenseResNet(cfg, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(default.parameters(), zero.parameters()))
    x = torch.rand(3, 6, generator=torch.Generator().manual_seed(0))
    one = zero.truncated(1)  # depth 1 is a valid net: one layer and the read-out
    assert one.depth == 1 and len(one.blocks) == 1
    assert torch.equal(one.trajectory(x).states, zero.trajectory(x).states[:, :2])
    assert len(zero.truncated(2).blocks) == 2  # the removed layers' parameters are gone
    assert sum(p.numel() for p in zero.truncated(2).parameters()) == 2 * (36 + 6) + (12 + 2)
    shared = DenseResNet(ModelConfig(width=6, depth=4, n_classes=2, shared_weights=True))
    assert len(shared.truncated(2).blocks) == 1


@pytest.mark.parametrize("value", [True, 2.5])
def test_model_sizes_must_be_integers_not_bools_or_floats(value):
    with pytest.raises(ValueError, match=f"depth must be an integer >= 1, got {value!r}"):
        ModelConfig(depth=value)


def test_model_input_and_out_messages():
    model = DenseResNet(ModelConfig(width=12, depth=2, n_classes=3))
    with pytest.raises(ValueError, match=r"ModelConfig\(width=64\)"):
        model(torch.rand(2, 3, 64))  # the last axis is the width the data has
    x = torch.rand(4, 12)
    good = [torch.empty(4, 3, 12), torch.empty(4, 2, 12), torch.empty(4, 3)]
    with torch.no_grad():
        with pytest.raises(ValueError, match="out must be a Trajectory .*got list"):
            model.trajectory(x, out=good)  # right shapes, but not a Trajectory
        assert model.trajectory(x, out=Trajectory(*good)).states is good[0]


# -- intervals that respect their bounds ---------------------------------------------------------------
def test_fisher_z_interval_of_spearman_rho_known_answer_and_inside_minus_one_to_one():
    import math

    from scipy import stats

    rhos = [0.9, 0.95, 0.99]
    zs = [math.atanh(r) for r in rhos]  # by hand: a t-interval of z, mapped back by tanh
    mean, sd = sum(zs) / 3, math.sqrt(sum((z - sum(zs) / 3) ** 2 for z in zs) / 2)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    low, high = claims.bounded_interval(rhos, "rho")
    assert (low, high) == pytest.approx((math.tanh(mean - half), math.tanh(mean + half)), rel=1e-12)
    assert (low, high) == pytest.approx((0.4532077538, 0.9980974277), abs=1e-9)
    assert 0.9 + stats.t.ppf(0.975, 2) * float(np.std(rhos, ddof=1)) / math.sqrt(3) > 1 > high  # t would pass 1
    assert claims.bounded_interval([-r for r in rhos], "rho") == pytest.approx((-high, -low), rel=1e-12)  # symmetric
    assert claims.bounded_interval([1.0, 1.0, 0.98], "rho")[1] < 1
    assert claims.bounded_interval([0.5, None, float("nan")], "rho") is None


def test_bootstrap_interval_of_a_unit_score_stays_in_the_scores_range():
    low, high = claims.bounded_interval([0.95, 0.99, 1.0], "unit")
    assert 0.95 - 1e-12 <= low < high <= 1.0
    assert claims.bounded_interval([0.95, 0.99, 1.0], "unit") == (low, high)  # seeded: the same every time
    assert claims.bounded_interval([0.3, 0.3, 0.3], "unit") == pytest.approx((0.3, 0.3))
    scores = [0.2, 0.4, 0.6, 0.8, 0.5]
    low, high = claims.bounded_interval(scores, "unit")
    assert min(scores) - 1e-12 <= low < sum(scores) / 5 < high <= max(scores) + 1e-12
    assert claims.bounded_interval([0.5], "unit") is None


def test_the_study_s_summaries_use_the_bounded_intervals():
    from resdyn.studies.sections.common import bounded

    iv = bounded([0.9, 0.95, 0.99, None], "rho")
    assert iv.n == 3 and iv.mean == pytest.approx(0.9466666667) and iv.high < 1
    assert (iv.low, iv.high) == claims.bounded_interval([0.9, 0.95, 0.99], "rho")
    assert bounded([0.7], "unit").low is None
