"""Independent runs side by side: nets to train as jobs for worker processes, through joblib.

Seeds and sweep variants do not depend on each other, so they can train in parallel worker
processes with the machine's cores split between them (on this project's 2-core machines two
1-thread workers train more samples per second than one 2-thread process: BENCHMARKS.md). The
engine is joblib: its process pool (loky) by default, or any joblib backend, such as Dask's on a
cluster (``pip install -e '.[cluster]'``)::

    from dask.distributed import Client
    with Client(address), joblib.parallel_config(backend="dask"):
        results = train_many(jobs)

Two kinds of job run through the one :func:`train_many`: a :class:`Job` (the paper's dense net,
through :func:`resdyn.core.train.train_or_load`) and a :class:`resdyn.lib.fitting.NetJob` (a zoo net of the
MNIST-1D study, through :func:`resdyn.lib.fitting.train_job`). Either way a net is trained once, stored
in the cache (which workers and parent share), and the parent reads the finished nets from there.

The plain twin. Until its first layer removal an adaptive run is, epoch for epoch, the plain run
(``adaptive=None``) of the same settings: the depth check only reads the net and draws no random
numbers. So an adaptive run that removed no layer ends with the plain run's net, and
:func:`train_many` trains plain jobs after their adaptive twins and stores such a twin's result as
the plain job's (:func:`adopt_plain_twin`) instead of training it again.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, replace

import torch

from resdyn.core import store
from resdyn.core.data import DataSpec
from resdyn.lib.fitting import NetJob, TrainedNet, train_job
from resdyn.core.model import ModelConfig
from resdyn.core.paths import cache_dir
from resdyn.core.pruning import AdaptiveDepthConfig
from resdyn.core.train import EpochRecord, FitResult, TrainConfig, train_or_load


@dataclass(frozen=True)
class Job:
    """One net to train.

    Args:
        data: how to load the data (they are loaded in the worker, not sent to it).
        model, train, adaptive: as for :func:`resdyn.core.train.train_or_load`.
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


def _train(job: Job | NetJob, threads: int, progress: bool, cache: str | None = None) -> str:
    if cache is not None:  # the parent's cache, also where a worker outlives a change of $RESDYN_CACHE
        os.environ["RESDYN_CACHE"] = cache
    torch.set_num_threads(threads)
    _result(job, progress)
    return job.name


def train_many(jobs: list[Job | NetJob], *, workers: int | None = None,
               progress: bool = True) -> list[FitResult | TrainedNet]:
    """Train every job (:class:`Job` or :class:`resdyn.lib.fitting.NetJob`) that is not in the cache
    yet, ``workers`` at a time (see :func:`plan`), longest first; then return all results, in the
    order of ``jobs``, read from the cache (a :class:`resdyn.core.train.FitResult` per Job, a
    :class:`resdyn.lib.fitting.TrainedNet` per NetJob).

    A plain Job whose adaptive twin (the same job with ``adaptive``) is also to be trained waits for
    a second wave, and takes the twin's net where the twin removed no layer (:func:`adopt_plain_twin`).
    With one worker (or one job to train) a wave runs in this process, with its threads.
    """
    todo = list({job: None for job in jobs if not _cached(job)})  # unique, in order
    twins = {replace(j, adaptive=None): j for j in todo if isinstance(j, Job) and j.adaptive is not None}
    _run([j for j in todo if j not in twins], workers, progress)
    _run([j for j in todo if j in twins and not adopt_plain_twin(j, twins[j])], workers, progress)
    return [_result(j, progress) for j in jobs]


def adopt_plain_twin(plain: Job, adaptive: Job) -> bool:
    """Store the trained ``adaptive`` job's net as the result of ``plain`` (its twin with
    ``adaptive=None``) where the adaptive run removed no layer: the same net, history (without the
    criteria) and test accuracy. Returns whether it did (never over an entry ``plain`` has)."""
    data, config = _dataset(plain.data), plain.train.resolved()
    folder, twin = (store.entry_dir(data, j.model, config, j.adaptive) for j in (plain, adaptive))
    expect = store.settings(adaptive.model, config, adaptive.adaptive, data.spec())
    saved = store.load(twin / "final.pt", expect=expect) if adaptive == replace(plain, adaptive=adaptive.adaptive) else None
    if saved is None or saved["pruning"] or (folder / "final.pt").exists():
        return False
    history = [EpochRecord(**{**r, "criterion": None, "val_acc_unpruned": None}) for r in saved["history"]]
    store.save(folder / "final.pt", model=saved["model"], history=history, pruning=[], config=config,
               adaptive=None, test_acc=saved["test_acc"], initial_criterion=None, data_spec=data.spec(),
               best_epoch=saved.get("best_epoch"))
    return True


def _result(job: Job | NetJob, progress: bool):
    """The job's net: read from the cache, or (in this process) trained or finished from its checkpoint."""
    if isinstance(job, NetJob):
        return train_job(job)
    return train_or_load(_dataset(job.data), job.model, job.train, adaptive=job.adaptive, progress=progress,
                         name=job.name)


def _run(todo: list, workers: int | None, progress: bool) -> None:
    """Train ``todo``, longest first (by what is left after a checkpoint). A job whose checkpoint
    holds every epoch has only the test set left: it is finished here, so it never holds a worker."""
    left = {job: _left(job) for job in todo}
    for job in [j for j in todo if left[j] == 0]:
        _result(job, progress)
    todo = sorted((j for j in todo if left[j] > 0), key=lambda j: -_cost(j) * left[j])
    n_workers, threads = plan(len(todo), workers=workers) if todo else (1, 1)
    nets = sum(isinstance(j, NetJob) for j in todo)
    if progress and nets:
        print(f"training {nets} nets, {n_workers} worker(s) x {threads} thread(s)", flush=True)
    if n_workers == 1:
        for job in todo:
            _train(job, torch.get_num_threads(), progress)
    else:
        from joblib import Parallel, delayed

        with warnings.catch_warnings():
            # loky replaces a worker whose memory grew by 300 MB (each holds its data set) and says
            # so in words that suggest a fault (joblib/joblib#883, joblib/loky#641): the job is unharmed
            warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
            Parallel(n_jobs=n_workers, **pool_options())(
                delayed(_train)(job, threads, progress, str(cache_dir())) for job in todo)


def _cost(job: Job | NetJob) -> float:
    """A Job's :attr:`Job.cost`; a NetJob's depth (the zoo's nets: deepest first)."""
    return job.depth if isinstance(job, NetJob) else job.cost


def _left(job: Job | NetJob) -> float:
    """The fraction of ``job``'s epochs that its checkpoint (if any) has not trained yet (a NetJob has none)."""
    if isinstance(job, NetJob):
        return 1.0
    saved = store.load(store.entry_dir(_dataset(job.data), job.model, job.train, job.adaptive) / "checkpoint.pt")
    return 1.0 if saved is None else 1.0 - len(saved["history"]) / job.train.epochs  # None: none, or set aside


def cache_state(job: Job) -> str:
    """Where ``job`` stands in the cache: "final" (trained), "partial" (a checkpoint to resume from)
    or "none"; nothing is trained."""
    return "final" if _cached(job) else "partial" if _left(job) < 1 else "none"


def _cached(job: Job | NetJob) -> bool:
    if isinstance(job, NetJob):
        return job.path().exists()
    return (store.entry_dir(_dataset(job.data), job.model, job.train, job.adaptive) / "final.pt").exists()
