"""The benchmark script runs (as a smoke test: tiny sizes, numbers not meaningful) and writes its report;
its roofline does the training step's GEMMs."""
import collections
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from resdyn.train import TrainConfig, make_optimizer, train_step

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
    assert cand["by_hand"]["max_abs_weight_diff"] == 0.0  # the same kernels on the same values


def test_bench_rejects_bad_sizes(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--reps", "0", "--out", str(tmp_path / "B.md")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "--reps" in proc.stderr


class GemmShapes(TorchDispatchMode):
    """Records (M, K, N) of every matrix product that reaches the kernels (mm and addmm, with or without out=)."""

    def __init__(self):
        super().__init__()
        self.shapes = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        packet = func.overloadpacket
        if packet in (torch.ops.aten.mm, torch.ops.aten.addmm):
            a, b = args[-2:] if packet is torch.ops.aten.addmm else args[:2]
            self.shapes[(a.shape[0], a.shape[1], b.shape[1])] += 1
        return func(*args, **(kwargs or {}))


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_roofline_does_the_training_steps_gemms():
    bench = load_bench()
    s = bench.make_settings(bench.parse_args(["--quick"]))
    B = 8
    model = bench.make_model(s, False, torch.device("cpu"))
    opt = make_optimizer(model, TrainConfig())
    x, y = torch.rand(B, s.width), torch.randint(0, 10, (B,))
    with GemmShapes() as step:
        train_step(model, opt, x, y, lr=1e-3)
    roofline, flops = bench.make_roofline(s, B, torch.device("cpu"))
    with GemmShapes() as roof:
        roofline(1)
    N, T = s.width, s.depth
    # per layer a forward and a weight-gradient product, an input-gradient product for all but the first
    assert step.shapes == roof.shapes == {(B, N, N): 2 * T - 1, (N, B, N): T, (B, N, 10): 1, (B, 10, N): 1, (10, B, N): 1}
    assert flops == sum(2 * m * k * n * c for (m, k, n), c in roof.shapes.items())
