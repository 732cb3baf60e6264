"""Benchmarks of resdyn on this machine; writes BENCHMARKS.md and bench/results.json.

    make bench                                  # = .venv/bin/python bench/bench.py (about 5 minutes on 2 cores)
    .venv/bin/python bench/bench.py --full-pipeline   # also times the full reproduction (about 17 minutes more)
    .venv/bin/python bench/bench.py --quick     # smoke test in well under a minute; numbers not meaningful
    .venv/bin/python bench/bench.py --help      # every option

What is measured (each timing: the median of --reps repetitions after one warm-up, with min and max;
the candidates of one comparison are timed interleaved, so a busy machine slows them alike):

  train       training throughput of the 15-layer dense ResNet (separate and shared weights) against
              a roofline of the same GEMMs in a plain torch loop and against roofline + fit's Adam step
              (the bound for any change that keeps the results); where the step time goes; changes
              tried (Adam inside backward, torch.compile, the backward by hand) with a bit-identity check
  trajectory  model.trajectory(x) against model(x) under no_grad, into preallocated buffers and
              allocating; collect_trajectory as a whole
  tsne        resdyn.dynamics.tsne_embedding (openTSNE) against sklearn.manifold.TSNE
  distances   resdyn.dynamics.trajectory_distances: time and peak memory (in a child process)
  pipeline    `python -m resdyn reproduce --quick` end to end: wall time and peak memory
  cuda        the train item on CUDA, where a CUDA device is present
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.adam import adam as adam_functional  # Adam's step on given tensors

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the checkout's resdyn, also without the editable install

from resdyn.data import DataError, balanced_subset, load_dataset  # noqa: E402
from resdyn.dynamics import cluster_separation, collect_trajectory, tsne_embedding  # noqa: E402
from resdyn.model import DenseResNet, ModelConfig, Trajectory  # noqa: E402
from resdyn.train import TrainConfig, fit, make_optimizer, train_step  # noqa: E402

ITEMS = ("train", "trajectory", "tsne", "distances", "pipeline", "cuda")
T0 = time.perf_counter()

# ----------------------------------------------------------------------------------------------
# command line and settings


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark resdyn on this machine and write BENCHMARKS.md (generated; do not edit by hand) "
                    "and the raw numbers as JSON. Progress goes to stderr.",
    )
    p.add_argument("--quick", action="store_true",
                   help="smoke test in seconds: width 64, 5 steps, 2 reps (1 for t-SNE), digits instead of MNIST, "
                        "small t-SNE and distance inputs, no pipeline. Numbers are not meaningful. Writes under "
                        "build/bench-quick/ unless --out is given.")
    p.add_argument("--skip", nargs="+", default=[], choices=ITEMS, metavar="ITEM",
                   help=f"items not to measure, any of: {', '.join(ITEMS)}. Default: none (with --quick: pipeline).")
    p.add_argument("--reps", type=int, default=None,
                   help="timed repetitions per measurement (after one warm-up); the median, min and max are "
                        "reported. Default 5 (2 with --quick).")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps in one timed repetition of the throughput measurement. Default 30 "
                        "(5 with --quick).")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 256, 512],
                   help="batch sizes for the throughput. Default: 128 256 512 (the regime trains at 128).")
    p.add_argument("--traj-batch", type=int, nargs="+", default=None,
                   help="batches for trajectory vs forward; the goal is judged on the first. Default 1000 200 "
                        "(1000 is collect_trajectory's batch; 200 with --quick).")
    p.add_argument("--tsne-per-class", type=int, default=None,
                   help="t-SNE input: this many test images per class (10 classes). Default 200, i.e. 2,000 "
                        "images (30 digits per class with --quick).")
    p.add_argument("--tsne-reps", type=int, default=None,
                   help="timed repetitions of each t-SNE (each takes seconds). Default 3 (1 with --quick).")
    p.add_argument("--dist-n", type=int, default=None,
                   help="trajectories in the distance matrix (each depth x width values). Default 2000 "
                        "(200 with --quick).")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads for every measurement. Default: the cores this process may use.")
    p.add_argument("--fit-epoch", action="store_true",
                   help="also time one epoch of resdyn.train.fit on MNIST with separate weights (minutes; one run).")
    p.add_argument("--full-pipeline", action="store_true",
                   help="also time the full `resdyn reproduce` (MNIST; 15+ minutes) the same way, instead of "
                        "reporting the time recorded in paper/results.json by the last full run.")
    p.add_argument("--data-root", default=None,
                   help="MNIST root holding MNIST/raw/. Default: $RESDYN_DATA, else ../shared/data where it holds "
                        "MNIST (as the Makefile), else <repo>/data. Never downloads; without MNIST the t-SNE "
                        "falls back to random clustered data and says so.")
    p.add_argument("--out", default=None,
                   help="the Markdown report. Default BENCHMARKS.md at the repository root "
                        "(build/bench-quick/BENCHMARKS.md with --quick).")
    p.add_argument("--json", default=None,
                   help="the raw numbers. Default bench/results.json; with --quick, next to --out with suffix .json, "
                        "so a smoke test never overwrites the real numbers.")
    return p.parse_args(argv)


@dataclass
class Settings:
    quick: bool
    width: int
    depth: int
    batch_sizes: list[int]
    steps: int
    reps: int
    traj_batch: list[int]
    tsne_per_class: int
    tsne_reps: int
    dist_n: int
    threads: int
    init_scale: float = 0.1
    init_bias: float = -4.0


def make_settings(args) -> Settings:
    q = args.quick
    pick = lambda value, full, quick: value if value is not None else (quick if q else full)  # noqa: E731
    s = Settings(
        quick=q, width=64 if q else 784, depth=15, batch_sizes=args.batch_sizes,
        steps=pick(args.steps, 30, 5), reps=pick(args.reps, 5, 2), traj_batch=pick(args.traj_batch, [1000, 200], [200]),
        tsne_per_class=pick(args.tsne_per_class, 200, 30), tsne_reps=pick(args.tsne_reps, 3, 1),
        dist_n=pick(args.dist_n, 2000, 200), threads=args.threads or len(os.sched_getaffinity(0)),
    )
    if min(s.reps, s.steps, s.tsne_reps, *s.traj_batch, s.dist_n, *s.batch_sizes) < 1:
        sys.exit("bench.py: error: --reps, --steps, --tsne-reps, --traj-batch, --dist-n and --batch-sizes must be >= 1")
    return s


def resolve_data_root(arg: str | None) -> str | None:
    """--data-root, else $RESDYN_DATA, else ../shared/data where it holds MNIST (as the Makefile does)."""
    if arg or os.environ.get("RESDYN_DATA"):
        return arg or os.environ["RESDYN_DATA"]
    shared = REPO.parent / "shared" / "data"
    return str(shared) if (shared / "MNIST" / "raw").is_dir() else None


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - T0:6.1f} s] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# timing helpers


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def time_interleaved(fns: dict, reps: int, *, warmup: int = 1, sync=lambda: None) -> dict[str, list[float]]:
    """Seconds per call of each function: ``warmup`` untimed rounds, then ``reps`` timed rounds, the
    functions taking turns within each round."""
    for _ in range(warmup):
        for f in fns.values():
            f()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            sync()
            t0 = time.perf_counter()
            f()
            sync()
            times[name].append(time.perf_counter() - t0)
    return times


def synchronizer(device: torch.device):
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


# ----------------------------------------------------------------------------------------------
# 1. training throughput, the GEMM roofline, and where the step time goes


def make_model(s: Settings, shared: bool, device) -> DenseResNet:
    config = ModelConfig(width=s.width, depth=s.depth, shared_weights=shared, init_scale=s.init_scale,
                         init_bias=s.init_bias)
    return DenseResNet(config).to(device).train()


def make_adam(model, **options):
    return torch.optim.Adam(model.parameters(), lr=1e-3, **options)


def random_data(s: Settings, device):
    """Inputs and labels kept in memory, enough for ``steps`` batches of the largest batch size."""
    n = s.steps * max(s.batch_sizes)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, s.width, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    perm = torch.randperm(n, generator=g).to(device)
    return x, y, perm


def train_steps(model, optimizer, x, y, perm, B: int, steps: int, lr: float = 1e-3):
    """``steps`` iterations of resdyn.train.fit's inner loop: batch gather, ``train_step``, accumulators."""
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    for i in range(steps):
        idx = perm[i * B : (i + 1) * B]
        loss, logits = train_step(model, optimizer, x[idx], y[idx], lr=lr)
        loss_sum += loss * len(idx)
        correct += (logits.argmax(1) == y[idx]).sum()


def forward_backward(model, x, y, perm, B: int, steps: int):
    """The step without the optimizer: forward, cross-entropy, zero_grad, backward."""
    for i in range(steps):
        idx = perm[i * B : (i + 1) * B]
        loss = F.cross_entropy(model(x[idx]), y[idx])
        model.zero_grad(set_to_none=True)
        loss.backward()


def make_roofline(s: Settings, B: int, device):
    """The training step's GEMMs alone, same shapes and count, into preallocated tensors.

    Per layer: forward a(t) @ W(t)^T (B,N)@(N,N); backward grad weight g^T @ a(t) (N,B)@(B,N) and,
    except for the first layer (the input needs no gradient, so autograd skips it), grad input
    g @ W(t) (B,N)@(N,N). Read-out: forward (B,N)@(N,10), backward (B,10)@(10,N) and (10,B)@(B,N).
    ``tests/test_bench.py`` checks that these are the training step's GEMMs, shape for shape.
    Weights ~ N(0, 1/N) keep the values O(1) (no denormals) through the 15 layers.
    """
    N, T, C = s.width, s.depth, 10
    g = torch.Generator().manual_seed(0)
    new = lambda *shape, scale=1.0: (torch.randn(*shape, generator=g) * scale).to(device)  # noqa: E731
    W = [new(N, N, scale=N ** -0.5) for _ in range(T)]
    gW = [new(N, N) for _ in range(T)]
    acts = [new(B, N) for _ in range(T + 1)]
    grads = [new(B, N) for _ in range(T + 1)]
    A, gA = new(C, N, scale=N ** -0.5), new(C, N)
    logits, glogits = new(B, C), new(B, C, scale=0.1)

    def run(steps: int):
        for _ in range(steps):
            for t in range(T):
                torch.matmul(acts[t], W[t].T, out=acts[t + 1])
            torch.matmul(acts[T], A.T, out=logits)
            torch.matmul(glogits, A, out=grads[T])
            torch.matmul(glogits.T, acts[T], out=gA)
            for t in reversed(range(T)):
                if t > 0:
                    torch.matmul(grads[t + 1], W[t], out=grads[t])
                torch.matmul(grads[t + 1].T, acts[t], out=gW[t])

    flops = 2 * B * N * N * (3 * T - 1) + 2 * B * N * C * 3
    return run, flops


def adam_alone(model, x, y, B: int, steps: int):
    """``steps`` calls of fit's optimizer's ``step()`` on fixed gradients (state initialized first)."""
    opt = make_optimizer(model, TrainConfig())
    F.cross_entropy(model(x[:B]), y[:B]).backward()
    opt.step()
    return lambda: [opt.step() for _ in range(steps)]


def bench_train(s: Settings, device: torch.device) -> dict:
    """Samples/s of the training step (separate, shared) and of the roofline, per batch size.

    Also the fused Adam step alone per weight kind, which no change that keeps the results can
    avoid: roofline + Adam is the bound for a step that keeps fit's optimizer."""
    sync = synchronizer(device)
    x, y, perm = random_data(s, device)
    rows = []
    for B in s.batch_sizes:
        log(f"train [{device.type}]: batch {B}, {s.steps} steps x ({s.reps} reps + 1 warm-up), "
            "separate/shared/roofline/Adam alone")
        models = {w: make_model(s, w == "shared", device) for w in ("separate", "shared")}
        opts = {w: make_optimizer(m, TrainConfig()) for w, m in models.items()}  # exactly fit's optimizer
        roofline, flops = make_roofline(s, B, device)
        fns = {w: (lambda w=w: train_steps(models[w], opts[w], x, y, perm, B, s.steps)) for w in models}
        fns["roofline"] = lambda: roofline(s.steps)
        for w in models:
            fns[f"adam_{w}"] = adam_alone(make_model(s, w == "shared", device), x, y, B, s.steps)
        times = time_interleaved(fns, s.reps, sync=sync)
        sps = {k: stats([s.steps * B / t for t in v]) for k, v in times.items()}
        ms = {k: stats([1000 * t / s.steps for t in v]) for k, v in times.items()}
        gflops = statistics.median(s.steps * flops / t for t in times["roofline"]) / 1e9
        for w in models:
            roof, adam, train = ms["roofline"]["median"], ms[f"adam_{w}"]["median"], ms[w]["median"]
            rows.append({"weights": w, "batch": B, "train_sps": sps[w], "roofline_sps": sps["roofline"],
                         "ratio": sps[w]["median"] / sps["roofline"]["median"], "roofline_gflops": gflops,
                         "adam_ms": ms[f"adam_{w}"], "bound_ratio": roof / (roof + adam),
                         "ratio_to_bound": (roof + adam) / train})
            log(f"  {w}: {sps[w]['median']:,.0f} samples/s, roofline {sps['roofline']['median']:,.0f} "
                f"(ratio {rows[-1]['ratio']:.2f}; Adam alone {adam:.2f} ms, bound {rows[-1]['bound_ratio']:.2f})")
    return {"device": str(device), "rows": rows, "breakdown": bench_breakdown(s, device, x, y, perm),
            "candidates": bench_candidates(s, device, x, y, perm)}


def bench_breakdown(s: Settings, device, x, y, perm, B: int = 128) -> dict:
    """Separate weights, batch 128: full step vs forward+backward vs optimizer.step variants (ms per step)."""
    sync = synchronizer(device)
    B = min(B, len(y) // s.steps)
    log(f"train [{device.type}]: where the step time goes (separate, batch {B})")
    model = make_model(s, False, device)
    opt = make_optimizer(model, TrainConfig())
    roofline, _ = make_roofline(s, B, device)
    times = time_interleaved({
        "full_step": lambda: train_steps(model, opt, x, y, perm, B, s.steps),
        "forward_backward": lambda: forward_backward(model, x, y, perm, B, s.steps),
        "roofline": lambda: roofline(s.steps),
    }, s.reps, sync=sync)

    # optimizer.step alone, on gradients left by one backward; one Adam per variant on the same params
    forward_backward(model, x, y, perm, B, 1)
    variants = {"adam_default": {}, "adam_foreach": {"foreach": True}, "adam_fused": {"fused": True}}
    opt_fns, unsupported = {}, {}
    for name, options in variants.items():
        try:
            o = make_adam(model, **options)
            o.step()  # also initializes the state, so an unsupported variant fails here
            opt_fns[name] = lambda o=o: [o.step() for _ in range(s.steps)]
        except Exception as exc:  # e.g. fused=True without a CPU kernel in this torch
            unsupported[name] = f"{type(exc).__name__}: {exc}"
    times.update(time_interleaved(opt_fns, s.reps, sync=sync))
    ms = {k: stats([1000 * t / s.steps for t in v]) for k, v in times.items()}
    for name, err in unsupported.items():
        ms[name] = {"unsupported": err}
    log("  " + ", ".join(f"{k} {v['median']:.2f} ms" for k, v in ms.items() if "median" in v))
    return {"batch": B, "ms_per_step": ms}


class AdamInBackward:
    """fit's Adam, one optimizer per parameter, stepped by a post-accumulate-grad hook as soon as the
    parameter's gradient is complete (the gradient is still in cache and is freed at once)."""

    def __init__(self, model):
        self.opts = {p: make_optimizer([p], TrainConfig()) for p in model.parameters()}
        self.handles = [p.register_post_accumulate_grad_hook(self._hook) for p in model.parameters()]

    def _hook(self, p):
        self.opts[p].step()
        self.opts[p].zero_grad(set_to_none=True)

    def set_lr(self, lr):
        for o in self.opts.values():
            o.param_groups[0]["lr"] = lr


class ByHand:
    """fit's step with the residual stack's backward written by hand and fit's Adam applied to each
    layer as soon as its gradients exist (separate weights, sigmoid). The forward is
    :meth:`DenseResNet.trajectory` into preallocated buffers (it keeps every x(t) and y(t), which the
    backward needs); the read-out and the loss go through autograd. The backward calls the kernels
    autograd calls, in the same order per value, so the weights stay bit-identical to fit's; what it
    saves is autograd's bookkeeping, the allocations and one pass of Adam over the gradients from memory."""

    def __init__(self, model, B: int):
        if model.config.shared_weights or model.config.activation != "sigmoid":
            raise ValueError("ByHand covers separate weights and the sigmoid only.")
        T, N, C = model.depth, model.config.width, model.config.n_classes
        self.model, self.lr = model, 1e-3
        self.opt = make_optimizer(model, TrainConfig())  # fit's hyperparameters; the state is kept here
        self.state = {p: (torch.zeros_like(p), torch.zeros_like(p), torch.zeros((), dtype=torch.float32))
                      for p in model.parameters()}
        new = lambda *shape: torch.empty(*shape, device=model.readout.weight.device)  # noqa: E731
        self.xs, self.ys = new(T + 1, B, N), new(T, B, N)  # layer-major, as trajectory stores them
        self.traj = Trajectory(self.xs.transpose(0, 1), self.ys.transpose(0, 1), new(B, C))
        self.g, self.dz, self.mm, self.gW, self.gb = new(B, N), new(B, N), new(B, N), new(N, N), new(N)

    def set_lr(self, lr):
        self.lr = lr

    def adam(self, params, grads):
        group = self.opt.param_groups[0]
        exp_avgs, exp_avg_sqs, steps = zip(*(self.state[p] for p in params))
        adam_functional(list(params), list(grads), list(exp_avgs), list(exp_avg_sqs), [], list(steps),
                        fused=True, amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1],
                        lr=self.lr, weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)

    @torch.no_grad()
    def step(self, x, y):
        m, xs, ys, T = self.model, self.xs, self.ys, self.model.depth
        m.trajectory(x, out=self.traj)  # xs[t] = x(t), ys[t] = y(t+1)
        with torch.enable_grad():  # read-out and loss through autograd
            xT = xs[T].detach().requires_grad_()
            logits = m.readout(xT)
            loss = F.cross_entropy(logits, y)
            gA, gc, gx = torch.autograd.grad(loss, [m.readout.weight, m.readout.bias, xT])
        self.adam([m.readout.weight, m.readout.bias], [gA, gc])
        g = self.g.copy_(gx)  # dloss/dx(t), from t = T down
        for t in reversed(range(T)):
            layer = m.layer(t)
            dz = torch.ops.aten.sigmoid_backward.grad_input(g, ys[t], grad_input=self.dz)
            torch.mm(dz.T, xs[t], out=self.gW)
            torch.sum(dz, 0, out=self.gb)
            if t > 0:  # x(t) feeds both the residual path and W(t): add both gradients
                g.add_(torch.mm(dz, layer.weight, out=self.mm))
            self.adam([layer.weight, layer.bias], [self.gW, self.gb])  # W(t) is not needed again
        return loss.detach(), logits.detach()


def candidate_steps(kind: str, model, optimizer, x, y, perm, B: int, steps: int, lr: float = 1e-3):
    """fit's inner loop with one change: ``model`` compiled, the optimizer stepped inside backward,
    or the backward written by hand (``optimizer`` is then a :class:`ByHand`)."""
    for i in range(steps):
        idx = perm[i * B : (i + 1) * B]
        if kind == "in_backward":
            optimizer.set_lr(lr)
            logits = model(x[idx])
            F.cross_entropy(logits, y[idx]).backward()
        elif kind == "by_hand":
            optimizer.set_lr(lr)
            optimizer.step(x[idx], y[idx])
        else:
            train_step(model, optimizer, x[idx], y[idx], lr=lr)


def bench_candidates(s: Settings, device, x, y, perm, B: int = 128, check_steps: int = 20) -> dict:
    """Changes tried to bring the separate-weight step closer to the roofline: ms per step (timed
    interleaved with fit's step and the roofline) and whether the weights after ``check_steps`` steps
    from the same start are bit-identical to fit's."""
    B = min(B, len(y) // max(s.steps, check_steps))
    log(f"train [{device.type}]: candidate changes (separate, batch {B})")
    kinds = {"fit": "resdyn.train.fit's step (eager autograd, fused Adam)",
             "in_backward": "Adam stepped inside backward, per parameter (post-accumulate-grad hooks)",
             "compiled": "`torch.compile(model)` (inductor), fused Adam",
             "by_hand": "backward of the residual stack by hand, fit's Adam per layer within it, buffers "
                        "preallocated (bench.py's `ByHand`)"}
    setups, out = {}, {}
    for kind in kinds:
        model = make_model(s, False, device)
        try:
            if kind == "compiled" and s.quick:
                raise RuntimeError("skipped with --quick (compiling takes tens of seconds)")
            opt = (AdamInBackward(model) if kind == "in_backward" else ByHand(model, B) if kind == "by_hand"
                   else make_optimizer(model, TrainConfig()))
            net = torch.compile(model) if kind == "compiled" else model
            t0 = time.perf_counter()
            candidate_steps(kind, net, opt, x, y, perm, B, check_steps)  # also compiles
            setups[kind] = (model, net, opt)
            out[kind] = {"label": kinds[kind], "first_steps_seconds": time.perf_counter() - t0}
        except Exception as exc:  # e.g. no C++ compiler for inductor
            out[kind] = {"label": kinds[kind], "unavailable": f"{type(exc).__name__}: {str(exc)[:200]}"}
    ref = setups["fit"][0]
    for kind, (model, _, _) in setups.items():
        diff = max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(ref.parameters(), model.parameters()))
        out[kind]["max_abs_weight_diff"] = diff
    roofline, _ = make_roofline(s, B, device)
    fns = {k: (lambda k=k: candidate_steps(k, setups[k][1], setups[k][2], x, y, perm, B, s.steps)) for k in setups}
    fns["roofline"] = lambda: roofline(s.steps)
    times = time_interleaved(fns, s.reps, sync=synchronizer(device))
    ms = {k: stats([1000 * t / s.steps for t in v]) for k, v in times.items()}
    for k in setups:
        out[k]["ms_per_step"] = ms[k]
        out[k]["ratio"] = ms["roofline"]["median"] / ms[k]["median"]
    log("  " + ", ".join(f"{k} {v['median']:.2f} ms" for k, v in ms.items()))
    return {"batch": B, "check_steps": check_steps, "roofline_ms": ms["roofline"], "rows": out}


def bench_fit_epoch(s: Settings, data_root) -> dict:
    """One epoch of resdyn.train.fit, end to end (shuffling, steps, test accuracy), separate weights."""
    name = "digits" if s.quick else "mnist"
    data = load_dataset(name, root=data_root, download=False)
    log(f"fit epoch: one epoch of resdyn.train.fit on {name} ({len(data.train)} samples), one run")
    model = DenseResNet(ModelConfig(width=data.n_features, depth=s.depth, init_scale=s.init_scale,
                                    init_bias=s.init_bias))
    t0 = time.perf_counter()
    result = fit(model, data, TrainConfig(epochs=1), progress=False)
    wall = time.perf_counter() - t0
    log(f"  {wall:.1f} s")
    return {"dataset": name, "n_train": len(data.train), "wall_seconds": wall,
            "epoch_seconds": result.history[0].seconds, "samples_per_second": len(data.train) / wall}


# ----------------------------------------------------------------------------------------------
# 2. trajectory recording vs plain forward


def bench_trajectory(s: Settings) -> dict:
    """model.trajectory(x) vs model(x) per batch size: recording into preallocated buffers (``out=``, as
    collect_trajectory does per batch) and allocating fresh ones; then collect_trajectory as a whole."""
    model = make_model(s, False, "cpu").eval()
    T, N = s.depth, s.width
    rows = []
    for batch in s.traj_batch:
        log(f"trajectory: model.trajectory vs model(x), batch {batch}, {s.reps} reps")
        x = torch.rand(batch, N, generator=torch.Generator().manual_seed(0))
        # stored layer by layer, like the buffers trajectory and collect_trajectory allocate
        out = Trajectory(torch.zeros(T + 1, batch, N).transpose(0, 1), torch.zeros(T, batch, N).transpose(0, 1),
                         torch.zeros(batch, 10))
        with torch.no_grad():
            times = time_interleaved({
                "forward": lambda: model(x),
                "into_out": lambda: model.trajectory(x, out=out),
                "allocating": lambda: model.trajectory(x),
            }, s.reps)
            faults = {name: minor_faults(f) for name, f in
                      [("forward", lambda: model(x)), ("into_out", lambda: model.trajectory(x, out=out)),
                       ("allocating", lambda: model.trajectory(x))]}
        ms = {k: stats([1000 * t for t in v]) for k, v in times.items()}
        overhead = {k: 100 * (ms[k]["median"] / ms["forward"]["median"] - 1) for k in ("into_out", "allocating")}
        log(f"  forward {ms['forward']['median']:.1f} ms; trajectory into out {ms['into_out']['median']:.1f} ms "
            f"({overhead['into_out']:+.1f} %), allocating {ms['allocating']['median']:.1f} ms "
            f"({overhead['allocating']:+.1f} %); page faults per call {faults}")
        rows.append({"batch": batch, "ms": ms, "overhead_percent": overhead, "page_faults": faults,
                     "buffer_mb": batch * (2 * T + 1) * N * 4 / 1e6})

    n, B = 2 * max(s.traj_batch), max(s.traj_batch)
    log(f"trajectory: collect_trajectory of {n} samples (batches of {B}) vs model(x) over the same batches")
    x = torch.rand(n, N, generator=torch.Generator().manual_seed(1))

    def forward_batches():
        with torch.no_grad():
            return [model(x[i : i + B]) for i in range(0, n, B)]

    times = time_interleaved({"forward": forward_batches,
                              "collect": lambda: collect_trajectory(model, x, batch_size=B)}, s.reps)
    ms = {k: stats([1000 * t for t in v]) for k, v in times.items()}
    collect = {"n": n, "batch": B, "ms": ms, "overhead_percent": 100 * (ms["collect"]["median"] / ms["forward"]["median"] - 1)}
    log(f"  forward {ms['forward']['median']:.1f} ms, collect_trajectory {ms['collect']['median']:.1f} ms "
        f"({collect['overhead_percent']:+.1f} %)")
    return {"rows": rows, "collect": collect}


def minor_faults(f) -> int:
    """Minor page faults of this process during one call of ``f``."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    f()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


# ----------------------------------------------------------------------------------------------
# 3. t-SNE: openTSNE (resdyn) vs scikit-learn


def tsne_input(s: Settings, data_root) -> tuple[np.ndarray, np.ndarray, str]:
    """x(T) of a DenseResNet (the analysis' init, untrained) for a balanced set of test images."""
    name = "digits" if s.quick else "mnist"
    try:
        data = load_dataset(name, root=data_root, download=False)  # no network in a benchmark
        split = balanced_subset(data.test, s.tsne_per_class, seed=0)
        model = DenseResNet(ModelConfig(width=data.n_features, depth=s.depth, init_scale=s.init_scale,
                                        init_bias=s.init_bias))
        xT = collect_trajectory(model, split.x).states[:, -1]
        source = f"x(T) of an untrained {s.depth}-layer DenseResNet (width {data.n_features}) for " \
                 f"{len(split)} {name} test images, {s.tsne_per_class} per class"
        return xT.numpy().astype(np.float64), split.y.numpy(), source
    except DataError as exc:
        log(f"  {name} not available ({str(exc).splitlines()[0][:120]}...); using random clustered data")
        g = np.random.default_rng(0)
        n, dim = 10 * s.tsne_per_class, 784 if not s.quick else s.width
        labels = np.repeat(np.arange(10), s.tsne_per_class)
        centers = g.normal(size=(10, dim))
        x = centers[labels] + 0.7 * g.normal(size=(n, dim))
        return x, labels, f"FALLBACK: random clustered data ({n} points, {dim} dims, 10 Gaussian clusters), " \
                          f"because {name} was not found"


def bench_tsne(s: Settings, data_root) -> dict:
    from sklearn.manifold import TSNE

    x, labels, source = tsne_input(s, data_root)
    log(f"tsne: {x.shape[0]} x {x.shape[1]}, openTSNE vs sklearn, {s.tsne_reps} reps each")
    embeddings = {}

    def run_opentsne(data=x):
        embeddings["opentsne"] = tsne_embedding(data, seed=0, perplexity=30, n_jobs=1)

    def run_opentsne_all(data=x):
        embeddings["opentsne_all_cores"] = tsne_embedding(data, seed=0, perplexity=30, n_jobs=s.threads)

    def run_sklearn(data=x):
        embeddings["sklearn"] = TSNE(perplexity=30, random_state=0, init="pca").fit_transform(data)

    small = x[np.linspace(0, len(x) - 1, min(len(x), 200)).astype(int)]  # warm-up: load, spin up threads
    run_opentsne(small)
    run_sklearn(small)
    run_opentsne_all(small)
    times = time_interleaved({"opentsne": run_opentsne, "opentsne_all_cores": run_opentsne_all, "sklearn": run_sklearn},
                             s.tsne_reps, warmup=0)
    out = {"source": source, "n": int(x.shape[0]), "dim": int(x.shape[1])}
    for name in ("opentsne", "opentsne_all_cores", "sklearn"):
        sep = cluster_separation(embeddings[name], labels)
        out[name] = {"seconds": stats(times[name]), "knn_accuracy": sep.knn_accuracy, "silhouette": sep.silhouette,
                     "k": sep.k}
    out["ratio_sklearn_over_opentsne"] = out["sklearn"]["seconds"]["median"] / out["opentsne"]["seconds"]["median"]
    out["ratio_sklearn_over_opentsne_all_cores"] = (out["sklearn"]["seconds"]["median"]
                                                    / out["opentsne_all_cores"]["seconds"]["median"])
    out["threads"] = s.threads
    log(f"  openTSNE {out['opentsne']['seconds']['median']:.1f} s (kNN {out['opentsne']['knn_accuracy']:.3f}), "
        f"sklearn {out['sklearn']['seconds']['median']:.1f} s (kNN {out['sklearn']['knn_accuracy']:.3f})")
    return out


# ----------------------------------------------------------------------------------------------
# 4. trajectory distance matrix: time and peak memory, in a child process

DISTANCE_CHILD = """
import json, sys, time
import torch
sys.path.insert(0, {repo!r})
from resdyn.dynamics import trajectory_distances
torch.set_num_threads({threads})


def status_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


n, T, N, reps = {n}, {T}, {N}, {reps}
residuals = torch.rand(n, T, N, generator=torch.Generator().manual_seed(0))
labels = torch.arange(n) % 10
before = status_kb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS (Linux >= 4.0)
    f.write("5")
t0 = time.perf_counter(); trajectory_distances(residuals, labels); first = time.perf_counter() - t0
after = status_kb("VmHWM")
times = []
for _ in range(reps):
    t0 = time.perf_counter(); trajectory_distances(residuals, labels); times.append(time.perf_counter() - t0)
print(json.dumps({{"first_seconds": first, "seconds": times, "maxrss_before_kb": before, "maxrss_after_kb": after}}))
"""


def bench_distances(s: Settings) -> dict:
    n, T, N = s.dist_n, s.depth, s.width
    log(f"distances: trajectory_distances on {n} x {T * N} float32 in a child process, {s.reps} reps + 1 warm-up")
    code = DISTANCE_CHILD.format(repo=str(REPO), threads=s.threads, n=n, T=T, N=N, reps=s.reps)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"distance child failed:\n{proc.stderr[-2000:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    mb = 1e6
    out = {
        "n": n, "values_per_trajectory": T * N,
        "seconds": stats(r["seconds"]), "first_call_seconds": r["first_seconds"],
        "peak_rss_increase_mb": (r["maxrss_after_kb"] - r["maxrss_before_kb"]) * 1024 / mb,
        "rss_before_mb": r["maxrss_before_kb"] * 1024 / mb,
        "theory_mb": {  # from reading trajectory_distances
            "inputs_float32": n * T * N * 4 / mb,
            "inputs_float64_copy": n * T * N * 8 / mb,
            "flat_squared_temporary_float64": n * T * N * 8 / mb,
            "matrix_float64": n * n * 8 / mb,
            "matrix_float32_result": n * n * 4 / mb,
        },
    }
    log(f"  {out['seconds']['median']:.2f} s, peak RSS +{out['peak_rss_increase_mb']:.0f} MB")
    return out


# ----------------------------------------------------------------------------------------------
# 5. the whole pipeline, as a subprocess

RUSAGE_WRAPPER = """
import json, resource, subprocess, sys, time
with open(sys.argv[1], "w") as logfile:
    t0 = time.perf_counter()
    rc = subprocess.call(sys.argv[2:], stdout=logfile, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "wall_seconds": wall, "maxrss_kb": ru.ru_maxrss, "cpu_seconds": ru.ru_utime + ru.ru_stime}))
"""


def run_measured(cmd: list[str], env: dict, logfile: Path) -> dict:
    """Wall time and peak RSS of ``cmd``: run under a small wrapper process whose RUSAGE_CHILDREN sees
    only this command (ru_maxrss: the largest single process among its descendants)."""
    proc = subprocess.run([sys.executable, "-c", RUSAGE_WRAPPER, str(logfile), *cmd], env=env, cwd=REPO,
                          capture_output=True, text=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["peak_rss_mb"] = r.pop("maxrss_kb") * 1024 / 1e6
    if r["rc"] != 0:
        r["log_tail"] = logfile.read_text()[-3000:]
    return r


def bench_pipeline(s: Settings, data_root, full: bool) -> dict:
    out = {}
    modes = [True, False] if full else [True]
    with tempfile.TemporaryDirectory(prefix="resdyn-bench-") as tmp:
        for quick in modes:
            label = "quick" if quick else "full"
            tmp_mode = Path(tmp) / label
            (tmp_mode / "cache").mkdir(parents=True)
            env = {**os.environ, "RESDYN_CACHE": str(tmp_mode / "cache"), "TQDM_DISABLE": "1"}
            if data_root:
                env["RESDYN_DATA"] = str(Path(data_root).resolve())
            cmd = [sys.executable, "-m", "resdyn", "reproduce", *(["--quick"] if quick else []),
                   "--out", str(tmp_mode / "out")]
            log(f"pipeline: {' '.join(cmd[1:])} with an empty RESDYN_CACHE (minutes)")
            r = run_measured(cmd, env, tmp_mode / "log.txt")
            r["command"] = "python " + shlex.join(cmd[1:-1]) + " <tmpdir>"
            log(f"  rc {r['rc']}, {r['wall_seconds']:.0f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
            out[label] = r
    if not full:
        out["full_recorded"] = recorded_full_run()
    return out


def recorded_full_run() -> dict | None:
    """The full run's own record in paper/results.json (not measured by this benchmark)."""
    path = REPO / "paper" / "results.json"
    if not path.exists():
        return None
    run = json.loads(path.read_text()).get("run", {})
    return {"path": "paper/results.json", "quick": run.get("quick"), "wall_seconds": run.get("wall_seconds"),
            "peak_rss_mb": run.get("peak_rss_mb"), "machine": run.get("machine"),
            "torch_threads": run.get("torch_threads")}


# ----------------------------------------------------------------------------------------------
# the machine


def machine_info(s: Settings) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    lines = [line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line]
    field = lambda key: [v.strip() for k, v in lines if k.strip() == key]  # noqa: E731
    cores = {(p, c) for p, c in zip(field("physical id"), field("core id"))}
    flags = set(field("flags")[0].split()) if field("flags") else set()
    return {
        "cpu": (field("model name") or [platform.processor() or platform.machine()])[0],
        "logical_cpus": os.cpu_count(),
        "physical_cores": len(cores) or None,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "isa": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mkl": torch.backends.mkl.is_available(),
        "onednn": torch.backends.mkldnn.is_available(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "load_average_start": os.getloadavg(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------------------------
# the report


def fmt(st: dict, scale: float = 1.0, digits: int = 0, comma: bool = True) -> str:
    """'median (min–max)'."""
    f = (lambda v: f"{v * scale:,.{digits}f}") if comma else (lambda v: f"{v * scale:.{digits}f}")
    return f"{f(st['median'])} ({f(st['min'])}–{f(st['max'])})"


def table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def md_machine(m: dict, s: Settings, res: dict) -> list[str]:
    rows = [
        ["CPU", m["cpu"] + (f" ({', '.join(m['isa'])})" if m["isa"] else "")],
        ["cores", f"{m['logical_cpus']} logical CPUs, {m['physical_cores'] or '?'} physical cores, "
                  f"{m['usable_cpus']} usable by this process"],
        ["torch", f"{m['torch']} (Python {m['python']})"],
        ["torch.get_num_threads()", f"{m['torch_threads']} (set by the benchmark; `--threads`)"],
        ["MKL / oneDNN", f"{'yes' if m['mkl'] else 'no'} / {'yes' if m['onednn'] else 'no'}"],
        ["CUDA", m["cuda"] or "none"],
        ["load average (1, 5, 15 min) at start / end",
         f"{', '.join(f'{v:.2f}' for v in m['load_average_start'])} / "
         f"{', '.join(f'{v:.2f}' for v in res['load_average_end'])}"],
        ["date", m["date"]],
        ["benchmark wall time", f"{res['bench_seconds']:.0f} s"],
    ]
    return ["## Machine", "", *table(["", ""], rows)]


def md_train(r: dict, s: Settings, cmd: str, title: str) -> list[str]:
    rows = [[row["weights"], row["batch"], fmt(row["train_sps"]), fmt(row["roofline_sps"]),
             f"{row['ratio']:.2f}", "yes" if row["ratio"] >= 0.8 else "**no**", f"{row['roofline_gflops']:.0f}",
             fmt(row["adam_ms"], digits=2), f"{row['bound_ratio']:.2f}", f"{row['ratio_to_bound']:.2f}"]
            for row in r["rows"]]
    out = [f"## {title}", "", f"Command: `{cmd}`", "",
           f"`DenseResNet(ModelConfig(width={s.width}, depth={s.depth}, init_scale={s.init_scale}, "
           f"init_bias={s.init_bias}))`, Adam(lr=1e-3), on `{r['device']}`. One repetition = {s.steps} steps of "
           "resdyn.train.fit's inner loop, line for line (lr assignment, batch gather `x[perm[i*B:(i+1)*B]]` from one "
           "in-memory tensor of random data, forward, cross-entropy, `zero_grad(set_to_none=True)`, backward, "
           "`optimizer.step()`, loss/accuracy accumulators). The roofline is a plain torch loop of exactly the "
           "step's GEMMs (per layer: forward (B,N)@(N,N), backward (N,B)@(B,N) for the weight gradient and, except in "
           "the first layer, whose input needs no gradient, (B,N)@(N,N) for the input gradient; read-out: "
           "(B,N)@(N,10) and its two backward GEMMs; `tests/test_bench.py` checks them against the GEMMs a training "
           "step calls) with preallocated tensors and `torch.matmul(..., out=...)`; "
           "nothing else. Samples/s: median (min–max) of "
           f"{s.reps} repetitions after one warm-up. *Adam alone*: `optimizer.step()` of fit's optimizer "
           "(Adam, `fused=True`) on fixed gradients, ms per step; it reads and writes every parameter, gradient "
           "and both moment buffers, whatever the batch size. *Bound*: roofline / (roofline + Adam alone), the "
           "train / roofline of a step that keeps fit's optimizer (and so its results) and spends time on nothing "
           "but the GEMMs and an Adam step as fast as Adam alone; *train / bound* is (roofline + Adam alone) / "
           "train step. All columns of one batch size are timed interleaved.", "",
           *table(["weights", "batch", "train samples/s", "roofline samples/s", "train / roofline",
                   "goal ≥ 0.8 met", "roofline GFLOP/s", "Adam alone ms", "bound", "train / bound"], rows)]
    b = r["breakdown"]
    ms = b["ms_per_step"]
    full = ms["full_step"]["median"]
    labels = {
        "full_step": "full training step (as above)",
        "forward_backward": "forward + cross-entropy + zero_grad + backward (no optimizer)",
        "adam_default": "`optimizer.step()`, Adam defaults (foreach=None, fused=None)",
        "adam_foreach": "`optimizer.step()`, Adam(foreach=True)",
        "adam_fused": "`optimizer.step()`, Adam(fused=True)",
        "roofline": "roofline: the step's GEMMs alone",
    }
    brows = []
    for key, label in labels.items():
        v = ms.get(key)
        if v is None:
            continue
        if "unsupported" in v:
            brows.append([label, f"unsupported ({v['unsupported'][:120]})", "–"])
        else:
            brows.append([label, fmt(v, digits=2), f"{100 * v['median'] / full:.0f} %"])
    out += [f"### Where the step time goes ({'separate weights'}, batch {b['batch']}, `{r['device']}`)", "",
            f"Command: `{cmd}`", "",
            "Milliseconds per step, median (min–max) of "
            f"{s.reps} repetitions of {s.steps} steps. The first three rows are timed interleaved, the optimizer "
            "variants interleaved with each other (`optimizer.step()` alone, on fixed gradients, "
            "state initialized by a warm-up). forward+backward plus one step variant should add up to about the "
            "full step; what is left is the batch gather and the accumulators.", "",
            *table(["part", "ms per step", "% of full step"], brows)]
    c = r.get("candidates")
    if c:
        crows = []
        for v in c["rows"].values():
            if "unavailable" in v:
                crows.append([v["label"], f"not measured ({v['unavailable'][:120]})", "–", "–", "–"])
                continue
            same = "yes (bit-identical)" if v["max_abs_weight_diff"] == 0 else f"no (max diff {v['max_abs_weight_diff']:.1e})"
            crows.append([v["label"], fmt(v["ms_per_step"], digits=2), f"{v['ratio']:.2f}", same,
                          f"{v['first_steps_seconds']:.1f}"])
        out += [f"### Changes tried (separate weights, batch {c['batch']}, `{r['device']}`)", "", f"Command: `{cmd}`", "",
                f"Milliseconds per step, median (min–max) of {s.reps} repetitions of {s.steps} steps, timed interleaved "
                f"with the roofline ({fmt(c['roofline_ms'], digits=2)} ms). *Same weights*: after {c['check_steps']} "
                "steps from the same initialization and batches, are all parameters bit-identical to fit's? *First "
                f"steps*: seconds for those {c['check_steps']} steps (includes compiling, which is quicker when "
                "inductor's on-disk cache already holds the code).", "",
                *table(["step", "ms per step", "roofline / step", "same weights as fit", "first steps s"], crows)]
    return out


def md_fit_epoch(r: dict, cmd: str) -> list[str]:
    return ["### One epoch of `resdyn.train.fit` (separate weights)", "", f"Command: `{cmd}`", "",
            *table(["dataset", "training samples", "seconds per epoch (wall)", "of which in fit's epoch record",
                    "samples/s"],
                   [[r["dataset"], f"{r['n_train']:,}", f"{r['wall_seconds']:.1f}", f"{r['epoch_seconds']:.1f}",
                     f"{r['samples_per_second']:,.0f}"]]),
            "One run, not a median: it takes minutes. The epoch record includes the test-set accuracy; the wall "
            "time also includes copying the model and data.", ""]


def md_trajectory(r: dict, s: Settings, cmd: str) -> list[str]:
    rows = []
    for row in r["rows"]:
        ms, ov, pf = row["ms"], row["overhead_percent"], row["page_faults"]
        rows.append([row["batch"], f"{row['buffer_mb']:.0f}", fmt(ms["forward"], digits=1),
                     fmt(ms["into_out"], digits=1), f"{ov['into_out']:+.1f} %", "yes" if ov["into_out"] <= 10 else "**no**",
                     fmt(ms["allocating"], digits=1), f"{ov['allocating']:+.1f} %",
                     "yes" if ov["allocating"] <= 10 else "**no**",
                     f"{pf['forward']:,} / {pf['into_out']:,} / {pf['allocating']:,}"])
    c = r["collect"]
    return ["## 2. Trajectory recording", "", f"Command: `{cmd}`", "",
            f"Separate-weight net (width {s.width}, depth {s.depth}), under `torch.no_grad()`, eval mode. Milliseconds "
            f"per call, median (min–max) of {s.reps} interleaved repetitions after one warm-up. *Into `out`*: "
            "`model.trajectory(x, out=...)` writes states and residuals into buffers allocated once (this is how "
            "`collect_trajectory` records each batch); each layer computes straight into its slot of the "
            "layer-major buffers. *Allocating*: `model.trajectory(x)` also allocates its two "
            "output buffers (*buffers MB*) and pays the page faults of first writing them; the last column counts "
            "minor page faults in one call of forward / into `out` / allocating.", "",
            *table(["batch", "buffers MB", "`model(x)` ms", "into `out` ms", "overhead", "≤ 10 %",
                    "allocating ms", "overhead", "≤ 10 %", "page faults per call"], rows),
            f"Whole analysis input: `collect_trajectory(model, x)` of {c['n']:,} samples in batches of {c['batch']:,} "
            f"(one allocation of the whole output) takes {fmt(c['ms']['collect'], digits=1)} ms against "
            f"{fmt(c['ms']['forward'], digits=1)} ms for `model(x)` over the same batches: "
            f"**{c['overhead_percent']:+.1f} %**.", ""]


def md_tsne(r: dict, s: Settings, cmd: str) -> list[str]:
    rows = [
        ["`resdyn.dynamics.tsne_embedding` (openTSNE, n_jobs=1)", fmt(r["opentsne"]["seconds"], digits=1, comma=False),
         f"{r['opentsne']['knn_accuracy']:.3f}", f"{r['opentsne']['silhouette']:.3f}"],
        [f"openTSNE, n_jobs={r['threads']} (all cores)", fmt(r["opentsne_all_cores"]["seconds"], digits=1, comma=False),
         f"{r['opentsne_all_cores']['knn_accuracy']:.3f}", f"{r['opentsne_all_cores']['silhouette']:.3f}"],
        ["`sklearn.manifold.TSNE(perplexity=30, random_state=0, init='pca')`",
         fmt(r["sklearn"]["seconds"], digits=1, comma=False),
         f"{r['sklearn']['knn_accuracy']:.3f}", f"{r['sklearn']['silhouette']:.3f}"],
    ]
    return ["## 3. t-SNE of x(T)", "", f"Command: `{cmd}`", "",
            f"Data: {r['source']} ({r['n']} x {r['dim']}). Both with perplexity 30 and seed 0. Seconds: median "
            f"(min–max) of {s.tsne_reps} interleaved repetitions, after a warm-up of each on 200 of the points. "
            f"kNN accuracy (k = {r['opentsne']['k']}, 5-fold) and silhouette of each embedding from "
            "`resdyn.dynamics.cluster_separation`.", "",
            *table(["implementation", "seconds", "kNN accuracy", "silhouette"], rows),
            f"sklearn / openTSNE time: **{r['ratio_sklearn_over_opentsne']:.2f}x** with openTSNE on one thread (as the "
            f"notebooks call it, for reproducibility), **{r['ratio_sklearn_over_opentsne_all_cores']:.2f}x** with "
            f"openTSNE on {r['threads']} threads. Not the same work: openTSNE runs 250 + 500 iterations; "
            "scikit-learn runs up to 1,000 Barnes-Hut iterations and uses all OpenMP threads for the gradient.", ""]


def md_distances(r: dict, s: Settings, cmd: str) -> list[str]:
    th = r["theory_mb"]
    rows = [[f"inputs, float32 ({r['n']} x {r['values_per_trajectory']:,})", f"{th['inputs_float32']:,.0f}"],
            ["float64 copy of the inputs (`flat`)", f"{th['inputs_float64_copy']:,.0f}"],
            ["`flat * flat` temporary (float64, freed after the row sums)",
             f"{th['flat_squared_temporary_float64']:,.0f}"],
            [f"one {r['n']} x {r['n']} matrix, float64 (several exist at once)", f"{th['matrix_float64']:,.1f}"],
            [f"the returned {r['n']} x {r['n']} matrix, float32", f"{th['matrix_float32_result']:,.1f}"]]
    # alive at once: `flat` and its square (row sums), later `flat` and about four n x n float64 matrices
    expected = th["inputs_float64_copy"] + max(th["flat_squared_temporary_float64"], 4 * th["matrix_float64"])
    return ["## 4. Trajectory distance matrix", "", f"Command: `{cmd}`", "",
            f"`resdyn.dynamics.trajectory_distances(residuals, labels)` on {r['n']} random residual trajectories "
            f"of {s.depth} x {s.width} = {r['values_per_trajectory']:,} float32 values, 10 classes, in a child "
            "process. Peak memory: the child's peak RSS during the first call (`VmHWM`, reset just before it "
            "through `/proc/self/clear_refs`) minus its RSS before the call, after the inputs exist (so it "
            "excludes them).", "",
            *table(["seconds per call", "first call (s)", "peak RSS increase (MB)", "RSS before the call (MB)"],
                   [[fmt(r["seconds"], digits=2, comma=False), f"{r['first_call_seconds']:.2f}",
                     f"{r['peak_rss_increase_mb']:,.0f}", f"{r['rss_before_mb']:,.0f}"]]),
            "Theoretical sizes (MB = 10^6 bytes):", "",
            *table(["array", "MB"], rows),
            "Expected peak increase from reading the code: the float64 copy plus the larger of the `flat * flat` "
            f"temporary and about four n x n float64 matrices (`flat @ flat.T`, its double, the sum of squares, "
            f"`d2`) = {expected:,.0f} MB.", ""]


def md_pipeline(r: dict, cmd: str) -> list[str]:
    rows = []
    for label in ("quick", "full"):
        p = r.get(label)
        if p:
            status = "ok" if p["rc"] == 0 else f"**failed (rc {p['rc']})**"
            rows.append([f"`{p['command']}`", status, f"{p['wall_seconds']:,.0f}", f"{p['cpu_seconds']:,.0f}",
                         f"{p['peak_rss_mb']:,.0f}", "measured by this benchmark"])
    rec = r.get("full_recorded")
    if "full" not in r:
        if rec and rec.get("wall_seconds") is not None:
            rss = f"{rec['peak_rss_mb']:,.0f}" if rec.get("peak_rss_mb") is not None else "not recorded"
            rows.append(["full `resdyn reproduce` (MNIST)", "–", f"{rec['wall_seconds']:,.0f}", "–", rss,
                         f"**from the last full run, not measured by this benchmark** ({rec['path']}, "
                         f"run.wall_seconds; quick={rec['quick']}; machine: {rec['machine']})"])
        else:
            rows.append(["full `resdyn reproduce` (MNIST)", "–", "–", "–", "–",
                         "not measured (use `--full-pipeline`) and no paper/results.json with run.wall_seconds"])
    out = ["## 5. Whole pipeline", "", f"Command: `{cmd}`", "",
           "Run as a subprocess with a fresh, empty `RESDYN_CACHE` (a temp dir), `RESDYN_DATA` set and "
           "`TQDM_DISABLE=1`. Wall time and CPU time (user + system, all descendants) of one run; peak RSS is "
           "`ru_maxrss` of `RUSAGE_CHILDREN` in a wrapper process: the largest single process (the papermill "
           "runner or a notebook kernel), not the sum of processes alive at once.", "",
           *table(["run", "status", "wall s", "CPU s", "peak RSS (MB)", "source"], rows)]
    for label in ("quick", "full"):
        if r.get(label, {}).get("log_tail"):
            out += [f"Log tail of the failed {label} run:", "", "```", r[label]["log_tail"], "```", ""]
    return out


def render(res: dict, s: Settings) -> str:
    cmd, items = res["command"], res["items"]
    out = ["# Benchmarks", "",
           f"> Generated by `make bench` (`bench/bench.py`; this file by `{cmd}`). **Do not edit by hand**: "
           f"re-run the benchmark. Raw numbers: `{res['json']}`.", ""]
    if s.quick:
        out += ["> **SMOKE TEST (`--quick`)**: tiny sizes and 1–2 repetitions; the numbers are not meaningful.", ""]
    load = res["machine"]["load_average_start"][0]
    if load >= 0.5:
        out += [f"> **Warning**: the machine was not idle at the start (1-minute load average {load:.2f}); other "
                "processes compete for the cores and the timings (and ratios) can be far off. Re-run on an idle "
                "machine.", ""]
    out += md_machine(res["machine"], s, res)
    skipped = lambda item: [f"Not measured: skipped (`--skip {item}`).", ""]  # noqa: E731
    out += md_train(items["train"], s, cmd, "1. Training throughput (CPU)") if "train" in items \
        else ["## 1. Training throughput (CPU)", "", *skipped("train")]
    if "fit_epoch" in items:
        out += md_fit_epoch(items["fit_epoch"], cmd)
    out += md_trajectory(items["trajectory"], s, cmd) if "trajectory" in items \
        else ["## 2. Trajectory recording", "", *skipped("trajectory")]
    out += md_tsne(items["tsne"], s, cmd) if "tsne" in items else ["## 3. t-SNE of x(T)", "", *skipped("tsne")]
    out += md_distances(items["distances"], s, cmd) if "distances" in items \
        else ["## 4. Trajectory distance matrix", "", *skipped("distances")]
    if "pipeline" in items:
        out += md_pipeline(items["pipeline"], cmd)
    else:
        why = "skipped with `--quick`" if s.quick else "skipped (`--skip pipeline`)"
        out += ["## 5. Whole pipeline", "", f"Not measured: {why}.", ""]
    if isinstance(items.get("cuda"), dict):
        out += md_train(items["cuda"], s, cmd, "6. Training throughput (CUDA)")
    else:
        out += ["## 6. CUDA", "", items.get("cuda", "Not measured: skipped (`--skip cuda`)."), ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    s = make_settings(args)
    data_root = resolve_data_root(args.data_root)
    torch.set_num_threads(s.threads)
    skip = set(args.skip) | ({"pipeline"} if s.quick else set())
    quick_dir = REPO / "build" / "bench-quick"
    out_md = Path(args.out) if args.out else (quick_dir / "BENCHMARKS.md" if s.quick else REPO / "BENCHMARKS.md")
    out_json = Path(args.json) if args.json else (out_md.with_suffix(".json") if s.quick
                                                  else REPO / "bench" / "results.json")
    command = "make bench" if not argv else ".venv/bin/python bench/bench.py " + shlex.join(argv)
    machine = machine_info(s)
    log(f"{machine['cpu']}, {s.threads} torch threads, torch {machine['torch']}; writing {out_md}")

    items = {}
    if "train" not in skip:
        items["train"] = bench_train(s, torch.device("cpu"))
    if args.fit_epoch:
        items["fit_epoch"] = bench_fit_epoch(s, data_root)
    if "trajectory" not in skip:
        items["trajectory"] = bench_trajectory(s)
    if "tsne" not in skip:
        items["tsne"] = bench_tsne(s, data_root)
    if "distances" not in skip:
        items["distances"] = bench_distances(s)
    if "pipeline" not in skip:
        items["pipeline"] = bench_pipeline(s, data_root, args.full_pipeline)
    if "cuda" not in skip:
        items["cuda"] = bench_train(s, torch.device("cuda")) if torch.cuda.is_available() \
            else "Not measured: no CUDA device on this machine."

    json_label = str(out_json.resolve().relative_to(REPO)) if out_json.resolve().is_relative_to(REPO) else str(out_json)
    res = {"command": command, "json": json_label, "settings": asdict(s), "machine": machine, "items": items,
           "load_average_end": os.getloadavg(), "bench_seconds": time.perf_counter() - T0}
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(render(res, s))
    out_json.write_text(json.dumps(res, indent=2) + "\n")
    log(f"wrote {out_md} and {out_json}")


if __name__ == "__main__":
    main()
