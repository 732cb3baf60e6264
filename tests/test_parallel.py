"""Independent runs side by side (resdyn.lib.parallel): the plan, joblib's process pool, Dask's backend."""
import pytest
import torch

from resdyn.core.data import DataSpec
from resdyn.core.model import ModelConfig
from resdyn.lib.parallel import Job, plan, train_many
from resdyn.core.train import TrainConfig, fit
from resdyn.core.model import DenseResNet


@pytest.mark.parametrize("n_jobs, workers, cores, expected", [
    (5, None, 2, (2, 1)), (1, None, 2, (1, 2)), (5, 1, 2, (1, 2)), (3, None, 16, (3, 5)), (8, 4, 16, (4, 4))])
def test_plan_splits_the_cores(n_jobs, workers, cores, expected, monkeypatch):
    monkeypatch.delenv("RESDYN_WORKERS", raising=False)
    assert plan(n_jobs, workers=workers, cores=cores) == expected


def test_plan_reads_the_environment_and_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("RESDYN_WORKERS", "1")
    assert plan(4, cores=2) == (1, 2)
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        plan(4, workers=0, cores=2)


def jobs():
    data = DataSpec("digits")
    model = ModelConfig(width=64, depth=3, n_classes=10)
    return [Job(data, model, TrainConfig(epochs=2, batch_size=64, lr=1e-2, seed=s, precision="fp32"), name=f"s{s} ")
            for s in (0, 1, 2)]


def serial(job):
    return fit(DenseResNet(job.model, seed=job.train.seed), job.data.load(), job.train, progress=False)


def same(a, b):
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_joblib_workers_give_the_nets_of_a_serial_run(digits):
    js = jobs()
    results = train_many(js + [js[0]], workers=2, progress=False)  # a repeated job is trained once
    assert len(results) == 4 and all(r.from_cache for r in results)  # trained by the workers, read back here
    for job, r in zip(js, results):
        assert same(r.model, serial(job).model) and r.config.seed == job.train.seed


def test_dask_backend_on_a_local_two_worker_cluster():
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("distributed")
    js = jobs()[:2]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        results = train_many(js, workers=2, progress=False)
    for job, r in zip(js, results):
        assert same(r.model, serial(job).model)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_plain_job_waits_for_its_adaptive_twin_and_takes_its_net_where_no_layer_went(digits, workers, monkeypatch):
    from dataclasses import replace

    import resdyn.lib.parallel as par
    from resdyn.core.pruning import AdaptiveDepthConfig

    plain = jobs()[0]
    never = replace(plain, adaptive=AdaptiveDepthConfig(threshold=0.0))  # no layer goes: the twin is the plain net
    other = replace(jobs()[1], adaptive=AdaptiveDepthConfig(threshold=float("inf")))  # removes after epoch 1
    trained, real = [], par._train  # jobs trained in this process (with 2 workers, only a wave of one job)
    monkeypatch.setattr(par, "_train", lambda job, *a: trained.append((job.train.seed, job.adaptive is None))
                        or real(job, *a))
    results = train_many([plain, never, replace(other, adaptive=None), other], workers=workers, progress=False)
    # the adaptive runs first; then only the plain seed 1: the plain seed 0 is its twin's net
    assert trained == {1: [(0, False), (1, False), (1, True)], 2: [(1, True)]}[workers]
    assert same(results[0].model, serial(plain).model) and same(results[2].model, serial(replace(other, adaptive=None)).model)
    assert same(results[1].model, results[0].model) and results[3].model.depth < 3
    straight = serial(plain)  # the adopted entry: the plain run's history, test accuracy, no criterion
    drop = lambda h: [{**r.__dict__, "seconds": 0} for r in h]  # noqa: E731
    assert drop(results[0].history) == drop(straight.history) and results[0].test_acc == straight.test_acc
    assert results[0].initial_criterion is None and results[0].pruning == []


def test_a_twin_that_removed_a_layer_or_a_plain_entry_that_exists_is_not_adopted(digits):
    from dataclasses import replace

    from resdyn.core import store
    from resdyn.lib.parallel import adopt_plain_twin
    from resdyn.core.pruning import AdaptiveDepthConfig

    plain = jobs()[2]
    pruned = replace(plain, adaptive=AdaptiveDepthConfig(threshold=float("inf")))
    never = replace(plain, adaptive=AdaptiveDepthConfig(threshold=0.0))
    assert not adopt_plain_twin(plain, never)  # not trained yet
    train_many([pruned, never], workers=1, progress=False)
    assert not adopt_plain_twin(plain, pruned)  # a net already pruned is no plain run
    assert not adopt_plain_twin(jobs()[1], never)  # another job's twin
    final = store.entry_dir(digits, plain.model, plain.train) / "final.pt"
    assert not final.exists() and adopt_plain_twin(plain, never) and final.exists()
    final.write_bytes(b"the plain run's own")
    assert not adopt_plain_twin(plain, never) and final.read_bytes() == b"the plain run's own"  # never overwritten


@pytest.mark.parametrize("workers", [1, 2])
def test_the_zoos_net_jobs_run_through_the_same_runner(tmp_path, workers, capsys):
    from resdyn.lib import data1d
    from resdyn.lib.fitting import FitConfig, NetJob, train_job
    from resdyn.core.pruning import AdaptiveDepthConfig
    from resdyn.lib.surgery import stage_length

    spec = data1d.Mnist1dSpec(num_samples=200, val_size=40, root=str(tmp_path))
    fit = FitConfig(max_epochs=2, patience=5)
    nets = [NetJob("dense", 2, 0, spec, fit), NetJob("dense", 3, 1, spec, fit, AdaptiveDepthConfig(threshold=float("inf")))]
    results = train_many(nets + nets[:1], workers=workers, progress=True)  # a repeated job is trained once
    assert capsys.readouterr().out.startswith(f"training 2 nets, {workers} worker(s)")
    assert [r.job for r in results] == nets + nets[:1] and all(job.path().exists() for job in nets)
    assert len(results[1].removed) == 1 and stage_length(results[1].model) == 2  # the rule ran: one block went
    again = [train_job(job) for job in nets]  # read from the cache: the nets the runner trained
    assert all(same(a.model, b.model) and a.history == b.history for a, b in zip(results, again))


def test_cache_state_reads_final_partial_and_none_without_training(digits, monkeypatch):
    import resdyn.lib.parallel as par
    from resdyn.core import checkpoints, store

    job, real = jobs()[0], par._train
    monkeypatch.setattr(par, "_train", lambda *a: pytest.fail("cache_state trained"))
    assert par.cache_state(job) == "none"
    folder = store.entry_dir(digits, job.model, job.train)
    model = DenseResNet(job.model, seed=0)
    opt = torch.optim.Adam(model.parameters())
    one = serial(job).history[:1]  # a checkpoint after epoch 1 of 2
    checkpoints.save(folder / "checkpoint.pt", model=model, optimizer=opt, history=one, pruning=[], config=job.train,
                     adaptive=None, data_spec=digits.spec())
    assert par.cache_state(job) == "partial" and par._left(job) == 0.5
    monkeypatch.setattr(par, "_train", real)
    train_many([job], workers=1, progress=False)  # resumes from the checkpoint
    assert par.cache_state(job) == "final"


def test_workers_end_soon_after_their_parent_is_killed(tmp_path):
    """train_many's pool (joblib's loky, idle timeout resdyn.lib.parallel.WORKER_IDLE_SECONDS): after a
    SIGKILL of the parent, its workers are idle and exit within the timeout (loky's default kept
    them for 300 s)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from resdyn.lib.parallel import WORKER_IDLE_SECONDS

    script = f"""
import os, sys, time
from joblib import Parallel, delayed
pids = Parallel(n_jobs=2, idle_worker_timeout={WORKER_IDLE_SECONDS})(delayed(os.getpid)() for _ in range(8))
print(" ".join(map(str, sorted(set(pids)))), flush=True)
time.sleep(600)
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers and parent.pid not in workers
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def alive(pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return not open(f"/proc/{pid}/stat").read().split()[2] == "Z"

    start = time.time()
    while any(alive(p) for p in workers) and time.time() < start + WORKER_IDLE_SECONDS + 60:
        time.sleep(0.5)
    # loky: the idle timeout, then up to 30 s for its exit lock; the default timeout alone was 300 s
    assert not any(alive(p) for p in workers), f"workers {workers} outlived their parent"
    assert time.time() - start < 120


def test_train_many_uses_the_short_idle_timeout(monkeypatch):
    import resdyn.lib.parallel as par

    seen = {}

    class Capture:
        def __init__(self, **kw):
            seen.update(kw)

        def __call__(self, jobs):
            return list(jobs) and []

    monkeypatch.setattr("joblib.Parallel", Capture)
    jobs = [par.Job(data=DataSpec("digits", "standard", None), model=ModelConfig(width=64, depth=2, n_classes=10),
                    train=TrainConfig(epochs=1, seed=s), adaptive=None, name=f"j{s}") for s in (101, 102)]
    try:
        par.train_many(jobs, workers=2, progress=False)
    except Exception:
        pass  # the captured pool trains nothing; what matters is how it was built
    assert seen.get("idle_worker_timeout") == par.WORKER_IDLE_SECONDS and seen.get("n_jobs") == 2
