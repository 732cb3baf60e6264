"""Benchmarks of resdyn on this machine: prints a table per measurement, writes BENCHMARKS.md and the raw
numbers (bench/results.json).

    make bench                                        # = .venv/bin/python bench/bench.py (minutes on 2 cores)
    .venv/bin/python bench/bench.py --full-pipeline   # also the full `resdyn reproduce` (about 17 minutes more)
    .venv/bin/python bench/bench.py --quick           # smoke test (width 64); the numbers mean nothing

Items: train (train_step's samples/s, fp32 and bf16, against a roofline of the step's matrix products in the
same precision), parallel (W processes x 1 thread against 1 process x W threads), trajectory (recording it
against model(x)), distances (trajectory_distances: time, peak memory), pipeline (`resdyn reproduce`).
Timings: median (min–max) of --reps repetitions after a warm-up; the candidates of one comparison take turns
within each repetition, so that a busy machine slows them alike. Finished experiments leave their conclusions
in bench/record.md (hand-written), which the report appends verbatim.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's resdyn, also without the editable install

from resdyn.studies import machine  # noqa: E402
from resdyn.core.dynamics import collect_trajectory, trajectory_distances  # noqa: E402
from resdyn.studies.experiment import REGIME  # noqa: E402
from resdyn.core.model import DenseResNet, ModelConfig, Trajectory  # noqa: E402
from resdyn.lib.parallel import plan  # noqa: E402
from resdyn.core.train import TrainConfig, make_optimizer, train_step  # noqa: E402
from resdyn.core.trainconfig import choose_precision  # noqa: E402

TITLES = {"train": "Training throughput against the GEMM roofline", "parallel": "Parallel workers",
          "trajectory": "Trajectory recording", "distances": "Trajectory distance matrix",
          "pipeline": "Whole pipeline"}
ITEMS = tuple(TITLES)
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# Child processes fork from a server process that imported this script (torch, resdyn) once and never ran a
# thread pool (a fork of this process could inherit a busy OpenMP pool): fresh, and quick to start.
FRESH = multiprocessing.get_context("forkserver")
FRESH.set_forkserver_preload(["__main__"])
T0 = time.perf_counter()


@dataclass
class Settings:
    quick: bool = False
    width: int = 784  # N (64 with --quick)
    depth: int = 15  # T
    batches: tuple = (128, 256, 512)  # the regime trains at 128; parallel uses the first
    steps: int = 30  # training steps per repetition
    reps: int = 5
    traj_batch: int = 1000  # collect_trajectory's batch; two batches are recorded
    dist_n: int = 2000  # trajectories in the distance matrix, as in notebook 02
    threads: int = len(os.sched_getaffinity(0))  # torch threads: every core this process may use
    skip: tuple = ()
    full_pipeline: bool = False
    out: Path = REPO / "BENCHMARKS.md"
    json: Path = REPO / "bench" / "results.json"
    command: str = "make bench"

    def model(self, shared: bool = False) -> ModelConfig:
        return ModelConfig(width=self.width, depth=self.depth, shared_weights=shared,
                           init_scale=REGIME.init_scale, init_bias=REGIME.init_bias)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text)


def parse(argv: list[str]) -> Settings:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke test: width 64, batch 128, 3 steps, 2 reps, 1 torch "
                   "thread, no pipeline; writes build/bench-quick/BENCHMARKS.md (and .json) unless --out is given")
    p.add_argument("--reps", type=positive, help="timed repetitions after a warm-up (default 5; 2 with --quick)")
    p.add_argument("--steps", type=positive, help="training steps per repetition (default 30; 3 with --quick)")
    p.add_argument("--skip", nargs="+", default=[], choices=ITEMS, metavar="ITEM",
                   help=f"items not to measure: {', '.join(ITEMS)}")
    p.add_argument("--out", type=Path, help="the report (default BENCHMARKS.md); the raw numbers go to "
                   "bench/results.json with the default report, else next to it with the suffix .json")
    p.add_argument("--full-pipeline", action="store_true", help="also time the full `resdyn reproduce` (MNIST)")
    a = p.parse_args(argv)
    if a.quick and a.full_pipeline:
        p.error("--full-pipeline times the real pipeline; it does not go with --quick")
    s = Settings(quick=a.quick, skip=(*a.skip, *(["pipeline"] if a.quick else [])), full_pipeline=a.full_pipeline,
                 command=shlex.join([".venv/bin/python", "bench/bench.py", *argv]) if argv else "make bench")
    if a.quick:
        s.width, s.batches, s.steps, s.reps, s.traj_batch, s.dist_n = 64, (128,), 3, 2, 200, 200
        s.threads = 1  # on a busy machine every parallel region waits for its other thread to get a turn
        s.out = REPO / "build" / "bench-quick" / "BENCHMARKS.md"
    s.steps, s.reps, s.out = a.steps or s.steps, a.reps or s.reps, (a.out or s.out).resolve()
    if s.out != REPO / "BENCHMARKS.md":
        s.json = s.out.with_suffix(".json")  # a smoke test never overwrites the real numbers
    return s


# timing and tables


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - T0:5.1f} s] {msg}", file=sys.stderr, flush=True)


def timed(f) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def interleaved(fns: dict, reps: int) -> dict[str, list[float]]:
    """Seconds per call of each function: one untimed round, then ``reps`` rounds of one call each, in turn."""
    for f in fns.values():
        f()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            times[name].append(timed(f))
    return times


def spread(values) -> dict:
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(st: dict, digits: int = 0) -> str:
    return f"{st['median']:,.{digits}f} ({st['min']:,.{digits}f}–{st['max']:,.{digits}f})"


def section(item: str, method: str, columns: list[str], rows: list[list], raw) -> dict:
    """A measurement's table (printed now, and for the report), its one-line method and raw numbers."""
    table = "\n".join(["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
                       *("| " + " | ".join(str(c) for c in row) + " |" for row in rows)])
    print(f"\n{TITLES[item]}\n{table}\n", flush=True)
    return {"method": method, "table": table, "raw": raw}


# 1. training throughput against the GEMM roofline, fp32 and bf16


def trainer(s: Settings, B: int, shared: bool = False):
    """A model (the regime's initialization), fit's optimizer, and ``steps`` batches of random data."""
    model = DenseResNet(s.model(shared)).train()
    g, n = torch.Generator().manual_seed(0), B * s.steps
    data = torch.rand(n, s.width, generator=g), torch.randint(0, 10, (n,), generator=g), torch.randperm(n, generator=g)
    return model, make_optimizer(model, TrainConfig()), data


def train_loop(model, optimizer, data, B: int, steps: int, precision: str) -> None:
    """fit's inner loop: gather a batch (B, N) through a permutation, one train_step."""
    x, y, perm = data
    for i in range(steps):
        idx = perm[i * B : (i + 1) * B]
        train_step(model, optimizer, x[idx], y[idx], lr=1e-3, precision=precision)


def make_roofline(config: ModelConfig, B: int, dtype=torch.float32):
    """The training step's matrix products alone, in ``dtype``, into preallocated tensors; returns run(steps).

    Per layer t: forward a(t) W(t)^T (B,N)@(N,N); backward the weight gradient g^T a(t) (N,B)@(B,N) and,
    except in the first layer (its input needs no gradient), the input gradient g W(t) (B,N)@(N,N).
    Read-out: (B,N)@(N,C) forward, (B,C)@(C,N) and (C,B)@(B,N) backward. In all config.multiply_adds(B)
    multiply-adds; tests/test_bench.py checks the products against those of a recorded train_step.
    """
    N, T, C = config.width, config.depth, config.n_classes
    g = torch.Generator().manual_seed(0)
    new = lambda *shape, scale=1.0: (torch.randn(*shape, generator=g) * scale).to(dtype)  # noqa: E731
    W, gW = [new(N, N, scale=N**-0.5) for _ in range(T)], [new(N, N) for _ in range(T)]  # N(0, 1/N): values O(1)
    acts, grads = [new(B, N) for _ in range(T + 1)], [new(B, N) for _ in range(T + 1)]
    A, gA, logits, glogits = new(C, N, scale=N**-0.5), new(C, N), new(B, C), new(B, C, scale=0.1)

    def run(steps: int) -> None:
        for _ in range(steps):
            for t in range(T):
                torch.mm(acts[t], W[t].T, out=acts[t + 1])
            torch.mm(acts[T], A.T, out=logits)
            torch.mm(glogits, A, out=grads[T])
            torch.mm(glogits.T, acts[T], out=gA)
            for t in reversed(range(T)):
                if t > 0:
                    torch.mm(grads[t + 1], W[t], out=grads[t])
                torch.mm(grads[t + 1].T, acts[t], out=gW[t])

    return run


def bench_train(s: Settings) -> dict:
    raw = []
    for B in s.batches:
        log(f"train: batch {B}; separate, shared x fp32, bf16 and both rooflines; {s.reps} x {s.steps} steps")
        fns = {}
        for weights in ("separate", "shared"):
            for p in DTYPES:
                model, opt, data = trainer(s, B, shared=weights == "shared")
                fns[f"{weights} {p}"] = lambda m=model, o=opt, d=data, p=p: train_loop(m, o, d, B, s.steps, p)
        for p, dtype in DTYPES.items():
            fns[f"roofline {p}"] = lambda run=make_roofline(s.model(), B, dtype): run(s.steps)
        sps = {k: [s.steps * B / t for t in v] for k, v in interleaved(fns, s.reps).items()}  # samples/s
        med = {k: statistics.median(v) for k, v in sps.items()}
        flops = 2 * s.model().multiply_adds(B)  # per step, shared weights alike
        raw += [{"weights": w, "precision": p, "batch": B, "samples_per_s": spread(sps[f"{w} {p}"]),
                 "ms_per_step": spread(1e3 * B / v for v in sps[f"{w} {p}"]),
                 "roofline_samples_per_s": spread(sps[f"roofline {p}"]),
                 "roofline_gflops": spread(v / B * flops / 1e9 for v in sps[f"roofline {p}"]),
                 "train_over_roofline": med[f"{w} {p}"] / med[f"roofline {p}"],
                 "over_fp32": med[f"{w} {p}"] / med[f"{w} fp32"]} for w in ("separate", "shared") for p in DTYPES]
    return section(
        "train", f"`train_step` (fit's inner loop: fused Adam; bf16: autocast of forward and loss) on random data, "
        f"width {s.width}, depth {s.depth}, against a plain loop of the step's 3T+2 matrix products "
        f"(`ModelConfig.multiply_adds`) in the row's precision; {s.reps} x {s.steps} steps, the 6 candidates of a "
        "batch interleaved. *÷ fp32*: samples/s over the fp32 row's.",
        ["weights", "precision", "batch", "samples/s", "ms/step", "roofline samples/s", "train ÷ roofline",
         "roofline GFLOP/s", "÷ fp32"],
        [[r["weights"], r["precision"], r["batch"], fmt(r["samples_per_s"]), fmt(r["ms_per_step"], 1),
          fmt(r["roofline_samples_per_s"]), f"{r['train_over_roofline']:.2f}", fmt(r["roofline_gflops"]),
          f"{r['over_fp32']:.2f}"] for r in raw], raw)


# 2. parallel workers: W processes x 1 thread, all training at once, against 1 process x W threads

_WORKER: dict = {}  # in each worker process: the barrier, and a trainer per precision


def _worker_init(threads: int, barrier) -> None:
    torch.set_num_threads(threads)
    _WORKER["barrier"] = barrier


def _worker_steps(s: Settings, B: int, precision: str) -> None:
    """In a worker: set up once, wait until every worker has its task (so that all train at once), train."""
    if precision not in _WORKER:
        _WORKER[precision] = trainer(s, B)
    _WORKER["barrier"].wait(timeout=600)
    train_loop(*_WORKER[precision], B, s.steps, precision)


def bench_parallel(s: Settings) -> dict:
    cores = len(os.sched_getaffinity(0))
    workers, threads = plan(cores, cores=cores)  # resdyn.lib.parallel's split of the cores: W x 1 on W cores
    B, single = s.batches[0], s.threads
    log(f"parallel: {workers} processes x {threads} thread against 1 x {single}; batch {B}; fp32, bf16")
    if workers < 2:
        return section("parallel", "Not measured: one core.", ["workers"], [[workers]], [])
    with ProcessPoolExecutor(workers, mp_context=FRESH, initializer=_worker_init,
                             initargs=(threads, FRESH.Barrier(workers))) as pool:
        def together(p: str) -> None:  # one task per worker: a worker with one waits at the barrier for the rest
            for f in [pool.submit(_worker_steps, s, B, p) for _ in range(workers)]:
                f.result()

        fns = {}
        for p in DTYPES:
            fns[f"{p} parallel"] = lambda p=p: together(p)
            fns[f"{p} single"] = lambda p=p, here=trainer(s, B): train_loop(*here, B, s.steps, p)
        times = interleaved(fns, s.reps)
    raw = []
    for p in DTYPES:
        par = spread(workers * s.steps * B / t for t in times[f"{p} parallel"])
        one = spread(s.steps * B / t for t in times[f"{p} single"])
        raw.append({"precision": p, "batch": B, "workers": workers, "threads_per_worker": threads,
                    "single_threads": single, "parallel_samples_per_s": par, "single_samples_per_s": one,
                    "ratio": par["median"] / one["median"]})
    return section(
        "parallel", f"{workers} `ProcessPoolExecutor` workers (forkserver; `torch.set_num_threads({threads})`, as "
        f"`resdyn.lib.parallel.plan` splits the cores) each train {s.steps} steps (separate weights) after a warm-up, "
        f"released together by a barrier; total samples/s against one process with {single} threads; wall time "
        f"of each repetition, {s.reps} repetitions interleaved.",
        ["precision", "batch", "processes x threads", "samples/s", "1 process", "samples/s", "ratio"],
        [[r["precision"], B, f"{workers} x {threads}", fmt(r["parallel_samples_per_s"]), f"1 x {single}",
          fmt(r["single_samples_per_s"]), f"{r['ratio']:.2f}"] for r in raw], raw)


# 3. trajectory recording against the plain forward pass


@torch.no_grad()
def bench_trajectory(s: Settings) -> dict:
    B, T, N = s.traj_batch, s.depth, s.width
    log(f"trajectory: 2 batches of {B}")
    model = DenseResNet(s.model()).eval()
    x = torch.rand(2 * B, N, generator=torch.Generator().manual_seed(0))
    # buffers allocated once, layer-major (T+1, B, N) like collect_trajectory's, seen as (B, T+1, N)
    out = Trajectory(torch.empty(T + 1, B, N).transpose(0, 1), torch.empty(T, B, N).transpose(0, 1), torch.empty(B, 10))
    times = interleaved({
        "`model(x)`": lambda: [model(b) for b in x.split(B)],
        "`model.trajectory(x, out=...)`": lambda: [model.trajectory(b, out=out) for b in x.split(B)],
        f"`collect_trajectory(model, x, batch_size={B})`": lambda: collect_trajectory(model, x, batch_size=B),
    }, s.reps)
    base = statistics.median(times["`model(x)`"])
    raw = {k: {"ms": spread(1e3 * t for t in v), "overhead": statistics.median(v) / base - 1} for k, v in times.items()}
    return section(
        "trajectory", f"{2 * B:,} inputs in batches of {B:,} (width {N}, depth {T}), no_grad; `out=`: buffers "
        f"allocated once; `collect_trajectory` allocates its whole output in each call; {s.reps} repetitions "
        "interleaved.",
        ["call", "ms", "overhead over `model(x)`"],
        [[k, fmt(r["ms"], 1), f"{100 * r['overhead']:+.1f} %"] for k, r in raw.items()], raw)


# 4. the trajectory distance matrix, in a fresh process (peak memory)


def in_child(fn, *args):
    """fn(*args) in a fresh Python process, so that the peak memory it sees is fn's."""
    with ProcessPoolExecutor(1, mp_context=FRESH) as pool:
        return pool.submit(fn, *args).result()


def _status_mb(key: str) -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith(key + ":"))
    return int(line.split()[1]) * 1024 / 1e6  # from kB


def _distances_child(n: int, T: int, N: int, reps: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    residuals, labels = torch.rand(n, T, N, generator=torch.Generator().manual_seed(0)), torch.arange(n) % 10
    before = _status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS (VmHWM) := RSS now (Linux >= 4.0)
    first = timed(lambda: trajectory_distances(residuals, labels))
    peak = _status_mb("VmHWM")
    seconds = spread(timed(lambda: trajectory_distances(residuals, labels)) for _ in range(reps))
    return {"n": n, "first_s": first, "seconds": seconds, "rss_before_mb": before, "peak_increase_mb": peak - before}


def bench_distances(s: Settings) -> dict:
    n, T, N = s.dist_n, s.depth, s.width
    log(f"distances: {n} x {T * N} in a fresh process")
    r = in_child(_distances_child, n, T, N, s.reps, s.threads)
    return section(
        "distances", f"`trajectory_distances` on {n:,} random trajectories of {T} x {N} float32 in a fresh process; "
        "peak RSS increase: `VmHWM` after the first call (reset before it) minus RSS before it, inputs excluded; "
        f"seconds: {s.reps} calls after the first.",
        ["n", "seconds per call", "first call s", "peak RSS increase MB", "RSS before MB"],
        [[n, fmt(r["seconds"], 2), f"{r['first_s']:.2f}", f"{r['peak_increase_mb']:,.0f}",
          f"{r['rss_before_mb']:,.0f}"]], r)


# 5. the whole pipeline


def _run_measured(cmd: list[str], env: dict, log_path: str) -> dict:
    """In a fresh process: run ``cmd``; its wall time, and CPU time and largest process's peak RSS of its
    process tree (RUSAGE_CHILDREN, which here sees only ``cmd``)."""
    with open(log_path, "w") as f:
        t0 = time.perf_counter()
        rc = subprocess.call(cmd, env=env, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"rc": rc, "wall_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
            "peak_rss_mb": ru.ru_maxrss * 1024 / 1e6}


def bench_pipeline(s: Settings) -> dict:
    raw = {}
    for mode in [["--quick"]] + ([[]] if s.full_pipeline else []):
        with tempfile.TemporaryDirectory(prefix="resdyn-bench-") as tmp:
            cmd = ["-m", "resdyn", "reproduce", *mode, "--out"]
            log(f"pipeline: python {shlex.join(cmd)} <tmpdir>, empty RESDYN_CACHE (minutes)")
            env = {**os.environ, "RESDYN_CACHE": f"{tmp}/cache", "TQDM_DISABLE": "1"}
            r = in_child(_run_measured, [sys.executable, *cmd, f"{tmp}/out"], env, f"{tmp}/log.txt")
            if r["rc"]:
                r["log_tail"] = Path(f"{tmp}/log.txt").read_text()[-3000:]
            raw[f"python {shlex.join(cmd)} <tmpdir>"] = r
    return section(
        "pipeline", "One run each, with a fresh empty `RESDYN_CACHE`; CPU: user + system of all its processes; "
        "peak RSS: its largest single process (`ru_maxrss` of RUSAGE_CHILDREN).",
        ["command", "status", "wall s", "CPU s", "peak RSS MB"],
        [[f"`{k}`", "ok" if r["rc"] == 0 else f"**failed (rc {r['rc']})**", f"{r['wall_s']:,.0f}",
          f"{r['cpu_s']:,.0f}", f"{r['peak_rss_mb']:,.0f}"] for k, r in raw.items()], raw)


# the machine and the report


def machine_info() -> dict:
    return {"machine": machine.describe(), "cpu": machine.cpu_model(),
            "bf16_flags": sorted(machine.cpu_flags() & {"avx512_bf16", "amx_bf16", "amx_tile"}),
            "auto_precision": " — ".join(choose_precision(torch.device("cpu"))),
            "usable_cpus": len(os.sched_getaffinity(0)), "torch_threads": torch.get_num_threads(),
            "versions": machine.versions(), "load_1min_start": os.getloadavg()[0],
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def render(s: Settings, m: dict, sections: dict) -> str:
    v, load = m["versions"], m["load_1min_start"]
    facts = [("machine", m["machine"]),
             ("CPU bf16 (avx512_bf16, amx)", ", ".join(m["bf16_flags"]) or "none"),
             ('`precision="auto"` picks', m["auto_precision"]),
             ("usable CPUs / torch threads", f"{m['usable_cpus']} / {m['torch_threads']}"),
             ("Python / torch / numpy", f"{v['python']} / {v['torch']} / {v['numpy']}"),
             ("1-minute load average, start / end (with the bench)", f"{load:.2f} / {m['load_1min_end']:.2f}"),
             ("peak RSS of the bench process", f"{m['peak_rss_mb']:,.0f} MB"),
             ("date (UTC) / wall time", f"{m['date']} / {m['wall_s']:.0f} s")]
    json_path = s.json.relative_to(REPO) if s.json.is_relative_to(REPO) else s.json
    out = ["# Benchmarks", "", f"> Generated by `bench/bench.py` (this file: `{s.command}`); do not edit by hand. "
           f"Raw numbers: `{json_path}`.", ""]
    if s.quick:
        out += ["> **Smoke test (`--quick`)**: tiny sizes; the numbers mean nothing.", ""]
    if load >= 0.5:
        out += [f"> **Warning**: the machine was not idle at the start (1-minute load {load:.2f}); other processes "
                "shared the cores, so timings and ratios can be far off. Re-run on an idle machine.", ""]
    out += ["## Machine", "", "|  |  |", "|---|---|", *(f"| {k} | {x} |" for k, x in facts), ""]
    for item in ITEMS:
        out += [f"## {TITLES[item]}", ""]
        if item in sections:
            out += [f"Command: `{s.command}`", "", sections[item]["method"], "", sections[item]["table"], ""]
        else:
            why = "`--quick`" if s.quick and item == "pipeline" else f"`--skip {item}`"
            out += [f"Not measured: skipped ({why}).", ""]
    return "\n".join(out + ["## Earlier findings (dated record)", "", (REPO / "bench" / "record.md").read_text()])


def main(argv: list[str] | None = None) -> None:
    s = parse(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(s.threads)
    m = machine_info()
    busy = " (NOT IDLE: timings will be off)" if m["load_1min_start"] >= 0.5 else ""
    log(f"{m['machine']}; torch threads: {m['torch_threads']}; bf16 flags {m['bf16_flags'] or 'none'}; "
        f"1-minute load {m['load_1min_start']:.2f}{busy}")
    benches = {"train": bench_train, "parallel": bench_parallel, "trajectory": bench_trajectory,
               "distances": bench_distances, "pipeline": bench_pipeline}
    sections = {item: benches[item](s) for item in ITEMS if item not in s.skip}
    m.update(load_1min_end=os.getloadavg()[0], peak_rss_mb=machine.peak_rss_mb(), wall_s=time.perf_counter() - T0)
    s.out.parent.mkdir(parents=True, exist_ok=True)
    s.out.write_text(render(s, m, sections))
    raw = {"settings": asdict(s), "machine": m, **{item: sec["raw"] for item, sec in sections.items()}}
    relative = lambda path: str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)  # noqa: E731
    s.json.write_text(json.dumps(raw, indent=2, default=relative) + "\n")
    log(f"wrote {s.out} and {s.json}")


if __name__ == "__main__":
    main()
