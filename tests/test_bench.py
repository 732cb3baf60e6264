"""bench/bench.py runs as a smoke test and writes its report and raw numbers; bad options stop it; its
roofline does exactly the matrix products of a training step."""
import collections
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from resdyn.core.model import DenseResNet
from resdyn.core.train import TrainConfig, make_optimizer, train_step

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_quick_run_writes_report_and_raw_numbers(tmp_path):
    real = (REPO / "bench" / "results.json").read_bytes() if (REPO / "bench" / "results.json").exists() else None
    out = tmp_path / "B.md"
    env = {k: v for k, v in os.environ.items() if k != "RESDYN_WORKERS"}  # the bench splits all the cores itself
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, env=env)  # a hang guard: busy machines are slow
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    for heading in ["## Machine", *(f"## {t}" for t in bench.TITLES.values()), "## Earlier findings (dated record)"]:
        assert heading in text
    assert "Not measured: skipped (`--quick`)." in text  # --quick does not run the pipeline
    assert (REPO / "bench" / "record.md").read_text() in text  # the record, verbatim
    assert "Training throughput against the GEMM roofline" in proc.stdout  # the tables go to stdout too

    res = json.loads(out.with_suffix(".json").read_text())
    assert real is None or (REPO / "bench" / "results.json").read_bytes() == real  # the real numbers stay
    train = {(r["weights"], r["precision"]): r for r in res["train"]}
    flops = 2 * bench.parse(["--quick"]).model().multiply_adds(128)  # per step: the model's count
    assert set(train) == {(w, p) for w in ("separate", "shared") for p in ("fp32", "bf16")}
    for (w, p), r in train.items():
        assert r["batch"] == 128 and r["samples_per_s"]["median"] > 0 and r["roofline_gflops"]["median"] > 0
        steps_per_s = r["roofline_samples_per_s"]["median"] / 128
        assert r["roofline_gflops"]["median"] == pytest.approx(steps_per_s * flops / 1e9)
        fp32 = train[w, "fp32"]["samples_per_s"]["median"]
        assert r["over_fp32"] == pytest.approx(r["samples_per_s"]["median"] / fp32)
    if len(os.sched_getaffinity(0)) >= 2:
        par = {r["precision"]: r for r in res["parallel"]}
        assert set(par) == {"fp32", "bf16"}
        assert all(r["workers"] >= 2 and r["parallel_samples_per_s"]["median"] > 0 for r in par.values())
    assert len(res["trajectory"]) == 3
    n, T, N = 200, 15, 64  # --quick's distance input; its float64 copy must show in the peak
    assert res["distances"]["peak_increase_mb"] >= n * T * N * 8 / 1e6
    assert res["machine"]["torch_threads"] >= 1 and "load_1min_end" in res["machine"]


def test_bad_option_exits_naming_it(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--reps", "0", "--out", str(tmp_path / "B.md")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and "--reps" in proc.stderr
    assert not (tmp_path / "B.md").exists()


@pytest.mark.parametrize("argv, name", [(["--steps", "x"], "--steps"), (["--reps", "-3"], "--reps"),
                                        (["--skip", "tsne"], "--skip"),
                                        (["--quick", "--full-pipeline"], "--full-pipeline")])
def test_parse_rejects(argv, name, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.parse(argv)
    assert exc.value.code != 0 and name in capsys.readouterr().err


def test_quick_writes_beside_out_never_over_the_real_numbers(tmp_path):
    s = bench.parse(["--quick"])
    assert s.json == REPO / "build" / "bench-quick" / "BENCHMARKS.json" and s.width == 64
    s = bench.parse(["--out", str(tmp_path / "X.md"), "--steps", "7"])
    assert s.json == tmp_path / "X.json" and s.steps == 7 and s.width == 784
    assert bench.parse([]).json == REPO / "bench" / "results.json"


def test_run_measured_sees_the_commands_peak_memory(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH.parent))  # the fresh process imports bench by name
    grow = "x = bytearray(300_000_000); x[::4096] = b'1' * len(x[::4096])"  # touch every page: 300 MB resident
    r = bench.in_child(bench._run_measured, [sys.executable, "-c", grow], dict(os.environ), str(tmp_path / "log"))
    assert r["rc"] == 0 and 300 <= r["peak_rss_mb"] < 1000 and r["wall_s"] > 0


class Gemms(TorchDispatchMode):
    """Counts (M, K, N, dtype) of every matrix product that reaches the kernels (mm, addmm)."""

    def __init__(self):
        super().__init__()
        self.seen = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket in (torch.ops.aten.mm, torch.ops.aten.addmm):
            a, b = args[-2:] if func.overloadpacket is torch.ops.aten.addmm else args[:2]
            assert a.dtype == b.dtype
            self.seen[(a.shape[0], a.shape[1], b.shape[1], a.dtype)] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_roofline_does_the_training_steps_gemms(shared, precision):
    s = bench.parse(["--quick"])
    config, B, dtype = s.model(shared), 8, bench.DTYPES[precision]
    model = DenseResNet(config)
    with Gemms() as step:
        train_step(model, make_optimizer(model, TrainConfig()), torch.rand(B, config.width),
                   torch.randint(0, 10, (B,)), lr=1e-3, precision=precision)
    with Gemms() as roof:
        bench.make_roofline(config, B, dtype)(1)
    N, T, C = config.width, config.depth, config.n_classes
    # per layer a forward and a weight-gradient product; an input-gradient product in all but the first
    assert step.seen == roof.seen == {(B, N, N, dtype): 2 * T - 1, (N, B, N, dtype): T, (B, N, C, dtype): 1,
                                      (B, C, N, dtype): 1, (C, B, N, dtype): 1}
    assert sum(m * k * n * c for (m, k, n, _), c in roof.seen.items()) == config.multiply_adds(B)
