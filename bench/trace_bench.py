"""What recording a trajectory costs: resdyn.lib.trace (full) and resdyn.lib.streaming.trace_stats (streaming)
against a plain forward pass, one thread; and the peak memory of each on a large input.

    .venv/bin/python bench/trace_bench.py            # about a minute
    .venv/bin/python bench/trace_bench.py --reps 3   # quicker, noisier

Timing: median of --reps repetitions after a warm-up, the three modes taking turns within each
repetition so that a busy machine slows them alike; overhead = median / median(forward) - 1.
"floor" is the time to write one batch's trajectory into fresh memory (page faults included), the
least a full trace must add to a forward pass.
Memory: one fresh process per mode (torch's allocations are invisible to tracemalloc): the peak
resident set (VmHWM, reset through /proc/self/clear_refs) above the process's size once the model
and inputs exist.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the checkout's resdyn; tests/models.py

from models import ConvResNet1d  # noqa: E402
from resdyn.core.model import DenseResNet, ModelConfig  # noqa: E402
from resdyn.lib.streaming import trace_stats  # noqa: E402
from resdyn.lib.trace import trace  # noqa: E402

MODES = ("forward", "full", "streaming")


def setup(name: str, n: int):
    """(model, x, labels) for 'dense' (the paper's net, width 784, depth 15) or 'conv1d'."""
    g = torch.Generator().manual_seed(0)
    if name == "dense":
        model, x = DenseResNet(ModelConfig(width=784, depth=15)), torch.rand(n, 784, generator=g)
    else:
        model, x = ConvResNet1d(channels=(32, 64), blocks_per_stage=3), torch.randn(n, 40, generator=g)
    return model.eval(), x, torch.randint(0, 10, (n,), generator=g)


def run(mode: str, model, x, labels, batch_size: int | None):
    if mode == "forward":
        with torch.no_grad():
            for i in range(0, len(x), batch_size or len(x)):
                model(x[i : i + (batch_size or len(x))])
    elif mode == "full":
        trace(model, x, batch_size=batch_size)
    else:
        trace_stats(model, x, labels, batch_size=batch_size or len(x))


def timings(name: str, reps: int, batch: int = 256, batches: int = 8) -> dict[str, float]:
    """Median seconds per batch of each mode over ``batches`` batches (so the streaming statistics'
    set-up and the full trace's joining count as they would)."""
    model, x, labels = setup(name, batch * batches)
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for rep in range(reps + 1):
        for mode in MODES:
            start = time.perf_counter()
            run(mode, model, x, labels, batch)
            if rep:  # the first round warms up
                times[mode].append((time.perf_counter() - start) / batches)
    result = {mode: statistics.median(t) for mode, t in times.items()}
    result["floor"] = write_floor(trace(model, x[:batch]), batches, reps)
    return result


def write_floor(record, batches: int, reps: int) -> float:
    """Seconds per batch to write ``batches`` batches' states and residuals into new memory (page
    faults included): the least that returning the full trajectory adds to the forward passes."""
    numel = batches * sum(s.states.numel() + s.residuals.numel() for s in record.stages)
    source, times = torch.randn(numel), []
    for _ in range(reps):
        start = time.perf_counter()
        torch.empty(numel).copy_(source)
        times.append((time.perf_counter() - start) / batches)
    return statistics.median(times)


def peak_memory(mode: str, n: int) -> float:
    """MiB above the process's size after setup, in a fresh process."""
    command = [sys.executable, str(Path(__file__)), "--memory", mode, "--n", str(n)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def memory_child(mode: str, n: int) -> None:
    model, x, labels = setup("dense", n)
    run(mode, model, x[:1000], labels[:1000], 1000)  # warm-up: torch's lazy initialization
    base = _status_mib("VmRSS")
    try:  # reset the peak (VmHWM) to the current size, Linux >= 4.0
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    run(mode, model, x, labels, 1000)
    peak = _status_mib("VmHWM") if _status_mib("VmHWM") else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peak - base:.1f}")


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--n", type=int, default=10000, help="samples for the memory measurement")
    parser.add_argument("--memory", choices=MODES, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.memory:
        return memory_child(args.memory, args.n)
    print(f"time per batch of 256 (8 batches a run), median of {args.reps}, 1 thread (torch {torch.__version__})")
    print(f"{'model':<34} {'forward ms':>10} {'full ms':>9} {'overhead':>8} {'stream ms':>9} {'overhead':>8}"
          f" {'floor ms':>9}")
    for name, label in (("dense", "DenseResNet 784 x 15"), ("conv1d", "ConvResNet1d (32, 64) x 3, L=40")):
        t = timings(name, args.reps)
        f = t["forward"]
        print(f"{label:<34} {1e3 * f:>10.1f} {1e3 * t['full']:>9.1f} {t['full'] / f - 1:>8.1%} "
              f"{1e3 * t['streaming']:>9.1f} {t['streaming'] / f - 1:>8.1%} {1e3 * t['floor']:>9.1f}")
    print("floor: writing the states and residuals into new memory, per batch: the least a full trace adds")
    states = args.n * 16 * 784 * 4 / 2**20
    print(f"\npeak memory above setup, DenseResNet 784 x 15, n = {args.n} in batches of 1000 "
          f"(the full trajectory's states: {states:.0f} MiB, residuals {states * 15 / 16:.0f} MiB)")
    for mode in MODES:
        print(f"  {mode:<10} {peak_memory(mode, args.n):>8.0f} MiB")


if __name__ == "__main__":
    main()
