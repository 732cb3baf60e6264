"""Independent runs side by side: nets to train as jobs for worker processes, through joblib.

Seeds and sweep variants do not depend on each other, so they can train in parallel worker
processes with the machine's cores split between them (on this project's 2-core machines two
1-thread workers train more samples per second than one 2-thread process: BENCHMARKS.md). The
engine is joblib: its process pool (loky) by default, or any joblib backend, such as Dask's on a
cluster (``pip install -e '.[cluster]'``)::

    from dask.distributed import Client
    with Client(address), joblib.parallel_config(backend="dask"):
        results = train_many(jobs)

Every job goes through :func:`resdyn.train.train_or_load`, so a net is trained once, stored in the
cache (which workers and parent share), and the parent reads the finished nets from there.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, replace

import torch

from .data import DataSpec
from .model import ModelConfig
from .pruning import AdaptiveDepthConfig
from .train import FitResult, TrainConfig, train_or_load


@dataclass(frozen=True)
class Job:
    """One net to train.

    Args:
        data: how to load the data (they are loaded in the worker, not sent to it).
        model, train, adaptive: as for :func:`resdyn.train.train_or_load`.
        name: shown in progress lines.
    """

    data: DataSpec
    model: ModelConfig
    train: TrainConfig
    adaptive: AdaptiveDepthConfig | None = None
    name: str = field(default="", compare=False)

    @property
    def cost(self) -> float:
        """Relative cost: multiply-adds of all training steps (for scheduling, longest first)."""
        n = self.train.n_train or 60000
        return self.train.epochs * self.model.multiply_adds(n)


#: Idle workers exit after this many seconds (loky's default, 300, kept them alive for five minutes
#: after their parent was killed).
WORKER_IDLE_SECONDS = 10

#: How often (seconds) a worker checks that the process that started it is still alive.
PARENT_CHECK_SECONDS = 1.0


def pool_options() -> dict:
    """The options of every worker pool (``joblib.Parallel(n_jobs, **pool_options())``): idle workers
    exit after :data:`WORKER_IDLE_SECONDS`, and every worker exits within :data:`PARENT_CHECK_SECONDS`
    of its parent's death. loky's workers only ever wait for their next job; one busy with a job
    (a t-SNE embedding, a net's training) when its parent was killed ran to the end of it and then
    waited out the idle time, holding its memory all along."""
    return {"idle_worker_timeout": WORKER_IDLE_SECONDS, "initializer": _exit_with_parent, "initargs": (os.getpid(),)}


def _exit_with_parent(parent: int) -> None:
    """In a new worker: a daemon thread that ends the process once ``parent`` is no longer its parent
    (a process whose parent dies is handed to another, so ``os.getppid()`` changes)."""
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="resdyn-exit-with-parent", daemon=True).start()


def _env_workers(default: int) -> int:
    value = os.environ.get("RESDYN_WORKERS", "").strip()
    if not value:
        return default
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if workers < 1:
        raise ValueError(f"RESDYN_WORKERS must be an integer >= 1 (worker processes), got {value!r}; unset it "
                         f"to use one worker per core ({default} here).")
    return workers


def plan(n_jobs: int, *, workers: int | None = None, cores: int | None = None) -> tuple[int, int]:
    """(workers, torch threads per worker) for ``n_jobs`` jobs on ``cores`` cores.

    Default: one worker per core (``$RESDYN_WORKERS`` overrides), never more workers than jobs,
    the cores split evenly between them."""
    cores = cores or os.cpu_count() or 1
    if workers is None:
        workers = _env_workers(cores)
    if workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}.")
    workers = max(1, min(workers, n_jobs))
    return workers, max(1, cores // workers)


_DATASETS: dict = {}  # per process: datasets loaded for earlier jobs


def _dataset(spec: DataSpec):
    if spec not in _DATASETS:
        _DATASETS[spec] = spec.load()
    return _DATASETS[spec]


def _train(job: Job, threads: int, progress: bool, cache: str | None = None) -> str:
    if cache is not None:  # the parent's cache, also where a worker outlives a change of $RESDYN_CACHE
        os.environ["RESDYN_CACHE"] = cache
    torch.set_num_threads(threads)
    train_or_load(_dataset(job.data), job.model, job.train, adaptive=job.adaptive, progress=progress, name=job.name)
    return job.name


def train_many(jobs: list[Job], *, workers: int | None = None, progress: bool = True) -> list[FitResult]:
    """Train every job that is not in the cache yet, ``workers`` at a time (see :func:`plan`),
    longest first; then return all results, in the order of ``jobs``, read from the cache.

    A plain job whose adaptive twin (the same job with ``adaptive``) is also to be trained waits for
    a second wave: the twin's run is the plain run up to its first layer removal and leaves it a
    checkpoint there (:func:`resdyn.train.train_or_load`), so the plain job trains only the epochs
    after it, none where no layer goes. With one worker (or one job to train) a wave runs in this
    process, with its threads.
    """
    todo = list({job: None for job in jobs if not _cached(job)})  # unique, in order
    twins = {replace(j, adaptive=None) for j in todo if j.adaptive is not None}
    _run([j for j in todo if j not in twins], workers, progress)
    _run([j for j in todo if j in twins and not _cached(j)], workers, progress)
    return [_result(j, progress) for j in jobs]


def _result(job: Job, progress: bool) -> FitResult:
    """The job's net: read from the cache, or (in this process) trained or finished from its checkpoint."""
    return train_or_load(_dataset(job.data), job.model, job.train, adaptive=job.adaptive, progress=progress,
                         name=job.name)


def _run(todo: list[Job], workers: int | None, progress: bool) -> None:
    """Train ``todo``, longest first (by what is left after a checkpoint). A job whose checkpoint
    holds every epoch has only the test set left: it is finished here, so it never holds a worker."""
    left = {job: _left(job) for job in todo}
    for job in [j for j in todo if left[j] == 0]:
        _result(job, progress)
    todo = sorted((j for j in todo if left[j] > 0), key=lambda j: -j.cost * left[j])
    n_workers, threads = plan(len(todo), workers=workers) if todo else (1, 1)
    if n_workers == 1:
        for job in todo:
            _train(job, torch.get_num_threads(), progress)
    else:
        from joblib import Parallel, delayed

        from .paths import cache_dir

        cache = str(cache_dir())
        with warnings.catch_warnings():
            # loky replaces a worker whose memory grew by 300 MB (each holds its data set) and says
            # so in words that suggest a fault (joblib/joblib#883, joblib/loky#641): the job is unharmed
            warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
            Parallel(n_jobs=n_workers, **pool_options())(
                delayed(_train)(job, threads, progress, cache) for job in todo)


def _left(job: Job) -> float:
    """The fraction of ``job``'s epochs that its checkpoint (if any) has not trained yet."""
    from . import store

    saved = store.load(store.entry_dir(_dataset(job.data), job.model, job.train, job.adaptive) / "checkpoint.pt")
    return 1.0 if saved is None else 1.0 - len(saved["history"]) / job.train.epochs  # None: none, or set aside


def cache_state(job: Job) -> str:
    """Where ``job`` stands in the cache: "final" (trained), "partial" (a checkpoint to resume from)
    or "none"; nothing is trained."""
    return "final" if _cached(job) else "partial" if _left(job) < 1 else "none"


def _cached(job: Job) -> bool:
    from . import store

    return (store.entry_dir(_dataset(job.data), job.model, job.train, job.adaptive) / "final.pt").exists()


def _train_net(job, threads: int, cache: str | None = None) -> str:
    from .fitting import train_job as train_net

    if cache is not None:
        os.environ["RESDYN_CACHE"] = cache
    torch.set_num_threads(threads)
    train_net(job)
    return job.name


def train_nets(jobs: list, *, workers: int | None = None, progress: bool = True) -> list:
    """:func:`train_many` for :class:`resdyn.fitting.NetJob` (the zoo's nets): every job not in the
    cache trains, ``workers`` at a time (see :func:`plan`), largest first (depth, then family order);
    then all results, in the order of ``jobs``, read from the cache (:class:`resdyn.fitting.TrainedNet`)."""
    from .fitting import train_job as train_net

    todo = sorted({job: None for job in jobs if not job.path().exists()}, key=lambda j: -j.depth)
    if todo:
        n_workers, threads = plan(len(todo), workers=workers)
        if progress:
            print(f"training {len(todo)} nets, {n_workers} worker(s) x {threads} thread(s)", flush=True)
        if n_workers == 1:
            for job in todo:
                train_net(job)
        else:
            from joblib import Parallel, delayed

            from .paths import cache_dir

            cache = str(cache_dir())
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
                Parallel(n_jobs=n_workers, **pool_options())(
                    delayed(_train_net)(job, threads, cache) for job in todo)
    return [train_net(job) for job in jobs]
