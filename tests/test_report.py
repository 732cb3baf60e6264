import resource
from types import SimpleNamespace

from resdyn import claims, reproduce
from resdyn.reproduce import compare_verdicts
from resdyn.report import render


def fake_results(ratio_sep=0.5, final_depth=5):
    return {
        "fig1ab": {"test_acc": {"separate": 0.982, "shared": 0.9861}, "depth": 15, "epochs": 10, "n_per_class": 200,
                   "train_seconds": {"separate": 100.0, "shared": 90.0}, "std_layer": {"separate": 4, "shared": None},
                   "mean_layer": {"separate": 6, "shared": 12},
                   "change_profile": {"separate": [0.01] * 14, "shared": [0.01] * 14},
                   "std_peak_layer": {"separate": 1, "shared": 2},
                   "std_profile": {"separate": [0.1] * 15, "shared": [0.2] * 15}},
        "fig1c": {"classes": list(range(10)), "n_samples": 2000, "trajectory_length": 11760,
                  "ratio": {"separate": [ratio_sep] * 10, "shared": [0.9] * 5 + [1.1] * 5}},
        "fig1d": {"separation": {"separate": {"knn_accuracy": 0.95, "silhouette": 0.4},
                                 "shared": {"knn_accuracy": 0.95, "silhouette": 0.1}},
                  "perplexity": 30.0, "seed": 0, "seconds": {"separate": 10.0, "shared": 11.0}},
        "adaptive": {"threshold": 0.01, "probe_size": 1000, "nets": {
            net: {"initial_depth": 15, "final_depth": final_depth, "test_acc": 0.98, "full_test_acc": 0.982,
                  "history": [{"epoch": 1, "depth": 15, "criterion": 0.02, "test_acc": 0.9, "test_acc_unpruned": None}]}
            for net in claims.NETS}},
    }


def test_verdict_rules_known_cases():
    v = {x.key: x.verdict for x in claims.all_verdicts(fake_results())}
    assert v["error_separate"] == "holds"  # 1.80 % vs 1.8 %
    assert v["error_shared"] == "holds"  # 1.39 % vs 1.4 %
    assert v["std_layer_separate"] == "holds" and v["std_layer_shared"] == "does not"
    assert v["mean_layer_separate"] == "holds" and v["mean_layer_shared"] == "partly"
    assert v["distance_separate"] == "holds" and v["distance_shared"] == "partly"  # 5 of 10 below 1
    assert v["tsne_separate"] == "holds" and v["tsne_shared"] == "partly"
    assert v["adaptive_shared"] == "holds" and v["adaptive_separate"] == "n/a"  # depth 5, -0.2 points
    assert [x.verdict for x in claims.accuracy({"separate": 0.975, "shared": 0.95})] == ["partly", "does not"]
    assert claims.std_convergence({"separate": 9, "shared": 7}, 15)[0].verdict == "partly"
    a = {"initial_depth": 15, "final_depth": 15, "test_acc": 0.98, "full_test_acc": 0.98}
    assert claims.adaptive_depth({"shared": a, "separate": a})[1].verdict == "does not"
    a = {"initial_depth": 15, "final_depth": 9, "test_acc": 0.97, "full_test_acc": 0.98}
    assert claims.adaptive_depth({"shared": a, "separate": a})[1].verdict == "does not"  # pruned, but -1 point


def test_compare_verdicts_lists_changes():
    assert compare_verdicts(fake_results(), fake_results()) == []
    changed = compare_verdicts(fake_results(), fake_results(ratio_sep=1.5, final_depth=15))
    assert "distance_separate: holds -> does not" in changed and "adaptive_shared: holds -> does not" in changed


def test_report_renders_every_claim(tmp_path):
    text = render(fake_results(), report_dir=tmp_path / "paper", figures_dir=tmp_path / "figures")
    for v in claims.all_verdicts(fake_results()):
        assert v.claim in text
    assert "](../figures/fig1c_trajectory_distances.png)" in text
    assert "Quick mode" not in text


def test_format_table_aligns_columns():
    table = claims.format_table(claims.accuracy({"separate": 0.98, "shared": 0.985}))
    lines = table.splitlines()
    assert lines[0].split() == ["claim", "paper", "ours", "verdict"] and len(lines) == 3
    assert lines[1].index("1.8 %") == lines[0].index("paper")


def test_peak_rss_in_decimal_megabytes_of_the_larger_process(monkeypatch):
    # ru_maxrss is in KiB on Linux: 2,000,000 KiB = 2,048 MB (10^6 bytes), the unit bench.py reports
    kib = {resource.RUSAGE_SELF: 500_000, resource.RUSAGE_CHILDREN: 2_000_000}
    monkeypatch.setattr(resource, "getrusage", lambda who: SimpleNamespace(ru_maxrss=kib[who]))
    assert reproduce._peak_rss_mb() == 2048.0
