"""The benchmark script runs (as a smoke test: tiny sizes, numbers not meaningful) and writes its report."""
import json
import subprocess
import sys
from pathlib import Path


BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


def test_bench_quick_writes_report_and_json(tmp_path):
    out = tmp_path / "B.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--skip", "tsne", "distances", "--reps", "1", "--steps", "2",
         "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    for heading in ["## Machine", "## 1. Training throughput (CPU)", "### Changes tried", "## 2. Trajectory recording",
                    "## 6. CUDA"]:
        assert heading in text
    assert "Not measured: skipped (`--skip tsne`)." in text
    res = json.loads(out.with_suffix(".json").read_text())
    rows = res["items"]["train"]["rows"]
    assert {(r["weights"], r["batch"]) for r in rows} == {(w, b) for w in ("separate", "shared") for b in (128, 256, 512)}
    for r in rows:  # the bound is roofline / (roofline + Adam), so it lies in (0, 1)
        assert 0 < r["bound_ratio"] < 1 and r["ratio"] > 0
    cand = res["items"]["train"]["candidates"]["rows"]
    assert cand["fit"]["max_abs_weight_diff"] == 0.0  # the reference is itself
    assert cand["in_backward"]["max_abs_weight_diff"] == 0.0  # same Adam, same values, other schedule
    assert "unavailable" in cand["compiled"]  # not compiled in a smoke test


def test_bench_rejects_bad_sizes(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--reps", "0", "--out", str(tmp_path / "B.md")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--reps" in proc.stderr
