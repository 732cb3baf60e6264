"""The MNIST-1D study's pieces: the offline data, the generic trainer, the removal ground truth, the rules."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from resdyn.core import claims, store
from resdyn.lib import data1d, fitting, removal, zoo
from resdyn.core.data import Dataset, Split
from resdyn.lib.fitting import FitConfig, HealConfig, NetJob
from resdyn.studies.sections.common import t_interval
from resdyn.lib.trace import trace

SMALL = data1d.Mnist1dSpec(num_samples=200, val_size=40)


@pytest.fixture
def spec(tmp_path):
    return data1d.Mnist1dSpec(num_samples=200, val_size=40, root=str(tmp_path))


# -- data ---------------------------------------------------------------------------------------
def test_two_generations_are_identical_and_leave_numpy_random_state_alone():
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    a, b = data1d.generate(SMALL), data1d.generate(SMALL)
    assert np.random.rand() == expected_next  # make_dataset reseeds the global state; it is restored
    for key in ("x", "y", "x_test", "y_test"):
        assert np.array_equal(a[key], b[key])
    assert a["x"].shape == (160, 40) and a["x_test"].shape == (40, 40)
    assert not np.array_equal(a["x"], data1d.generate(data1d.Mnist1dSpec(num_samples=200, seed=43, val_size=40))["x"])


def test_cache_holds_the_arguments_and_regenerates_when_they_differ(spec):
    d = data1d.load_mnist1d(spec)
    path = data1d.cache_path(spec)
    with np.load(path) as saved:
        assert "arguments" in saved and '"num_samples": 200' in str(saved["arguments"])
    assert (len(d.train), len(d.val), len(d.test)) == (120, 40, 40)
    assert d.train.x.dtype == torch.float32 and d.train.y.dtype == torch.int64
    # a file at the path with other arguments is not trusted: set aside and regenerated
    np.savez(path, arguments=np.array('{"other": 1}'), x=np.zeros((1, 40)), y=np.zeros(1), x_test=np.zeros((1, 40)),
             y_test=np.zeros(1))
    with pytest.warns(store.CacheWarning, match=r"holds the set of other generator arguments \(\{'other': 1\} where"):
        again = data1d.load_mnist1d(spec)
    assert torch.equal(again.train.x, d.train.x)


def test_get_dataset_is_never_called(spec, monkeypatch):
    import mnist1d.data

    def download(*args, **kwargs):
        raise AssertionError("mnist1d.data.get_dataset downloads; resdyn must not call it")

    monkeypatch.setattr(mnist1d.data, "get_dataset", download)
    monkeypatch.setattr(mnist1d, "get_dataset", download)
    data1d.load_mnist1d(spec)  # generated, not downloaded
    sources = Path(data1d.__file__).parent.rglob("*.py")
    assert not [p.name for p in sources if "get_dataset(" in p.read_text()]


@pytest.mark.parametrize("kwargs, message", [({"num_samples": 205}, "multiple of 10"), ({"num_samples": 50}, ">= 100"),
                                             ({"val_size": 5}, "val_size"), ({"seed": -1}, "seed")])
def test_spec_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data1d.Mnist1dSpec(**{"num_samples": 200, "val_size": 40, **kwargs})


# -- models -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", zoo.FAMILY_NAMES)
def test_every_family_is_one_stage_of_depth_blocks_that_trace_finds(name):
    model, x = zoo.family(name).make(40, 3, 0), torch.randn(5, 40)
    tr = trace(model, x)
    assert len(tr.stages) == 1 and tr.residuals.shape[1] == 3
    with torch.no_grad():
        torch.testing.assert_close(tr.output, model.eval()(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(tr.states[:, 1:] - tr.states[:, :-1], tr.residuals, atol=1e-5, rtol=1e-5)
    # the same seed gives the same weights; another seed others
    same, other = zoo.family(name).make(40, 3, 0), zoo.family(name).make(40, 3, 1)
    p0, p1, p2 = (torch.cat([p.flatten() for p in m.parameters()]) for m in (model, same, other))
    assert torch.equal(p0, p1) and not torch.equal(p0, p2)


def test_family_rejects_unknown_name():
    with pytest.raises(ValueError, match="family must be one of dense, dense256, conv, transformer"):
        zoo.family("resnet")


# -- training -----------------------------------------------------------------------------------
def _toy(n=120, seed=0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 40, generator=g)
    y = (x[:, 0] > 0).long()
    half = n // 2
    split = lambda a, b: Split(x[a:b], y[a:b])  # noqa: E731
    return Dataset("toy", split(0, half), split(half, half + n // 4), split(half + n // 4, n), 2, (1, 40), "raw")


def test_fit_keeps_the_best_validation_epoch_and_stops_after_patience():
    data = _toy()
    model = zoo.SigmoidResNet(40, 2, n_classes=2, seed=0)
    before = [p.clone() for p in model.parameters()]
    fit = fitting.fit_classifier(model, data, FitConfig(lr=0.05, batch_size=16, max_epochs=40, patience=2), seed=0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # non-destructive
    losses = [h["val_loss"] for h in fit.history]
    assert fit.best_epoch == 1 + int(np.argmin(losses))
    assert fitting.evaluate(fit.model, data.val)[0] == pytest.approx(losses[fit.best_epoch - 1], rel=1e-6)
    if len(fit.history) < 40:
        assert fit.history[-1]["stopped"] and len(fit.history) - fit.best_epoch >= 2
    assert fit.capped == (len(fit.history) == 40)
    short = fitting.fit_classifier(model, data, FitConfig(lr=0.05, batch_size=16, max_epochs=1, patience=2), seed=0)
    assert short.capped and len(short.history) == 1  # one epoch under a cap of one: the cap stopped it


def test_heal_returns_a_copy_and_zero_steps_change_nothing():
    data, model = _toy(), zoo.SigmoidResNet(40, 2, n_classes=2, seed=0)
    same = fitting.heal(model, data, steps=0, lr=1e-2)
    assert same is not model and all(torch.equal(a, b) for a, b in zip(model.parameters(), same.parameters()))
    moved = fitting.heal(model, data, steps=3, lr=1e-2)
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), moved.parameters()))
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        fitting.heal(model, data, steps=-1, lr=1e-2)


def test_net_job_trains_once_then_reads_the_cache(tmp_path, monkeypatch, spec):
    monkeypatch.setenv("RESDYN_CACHE", str(tmp_path / "cache"))
    job = NetJob("dense", 2, 0, spec, FitConfig(max_epochs=2, patience=5))
    first = fitting.train_job(job)
    assert job.path().exists()

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(fitting, "fit_classifier", no_training)
    second = fitting.train_job(job)
    assert second.history == first.history
    for a, b in zip(first.model.parameters(), second.model.parameters()):
        assert torch.equal(a, b)
    job.path().write_bytes(b"truncated")  # a damaged file is set aside and trained again, not trusted
    monkeypatch.undo()
    monkeypatch.setenv("RESDYN_CACHE", str(tmp_path / "cache"))
    with pytest.warns(store.CacheWarning, match="final.pt could not be read"):
        assert fitting.train_job(job).history == first.history


# -- removal ------------------------------------------------------------------------------------
def _with_dead_block(dead: int = 1, depth: int = 4) -> torch.nn.Module:
    """A dense net whose block ``dead`` adds sigmoid(-30) ~ 1e-13: the identity up to rounding."""
    model = zoo.SigmoidResNet(40, depth, seed=0)
    with torch.no_grad():
        model.blocks[dead].linear.weight.zero_()
        model.blocks[dead].linear.bias.fill_(-30.0)
    return model.eval()


def test_criteria_rank_an_identity_block_most_removable():
    model, x = _with_dead_block(1), torch.randn(64, 40)
    scores = removal.criterion_scores(model, x)
    assert set(scores) == set(removal.CRITERIA) and all(len(v) == 4 for v in scores.values())
    assert scores["paper"][0] == math.inf
    for name in ("block_influence", "angular", "relative", "cka"):
        assert removal.ranking(scores[name])[0] == 1, name
    assert scores["block_influence"][1] == pytest.approx(0, abs=1e-9)


def test_lesion_of_an_identity_block_changes_nothing_and_the_oracle_takes_it_first():
    model = _with_dead_block(2)
    with torch.no_grad():
        model.head.weight.mul_(100)  # confident: any change of x(T) by a live block costs loss
        x = torch.randn(80, 40, generator=torch.Generator().manual_seed(0))
        split = Split(x, model(x).argmax(1))  # labels: the intact net's own answers
    lesions = removal.lesion_losses(model, split, 4)
    assert lesions.loss_increase[2] == pytest.approx(0, abs=1e-6)
    orders = removal.removal_orders(model, removal.criterion_scores(model, x), x, split)
    assert set(orders) == set(removal.STRATEGIES)
    assert orders["deepest"] == [(3,), (2, 3), (1, 2, 3)]
    assert orders["oracle"][0] == (2,) and all(len(s) == k for k, s in enumerate(orders["oracle"], start=1))
    assert all(set(a) < set(b) for a, b in zip(orders["oracle"], orders["oracle"][1:]))  # greedy: nested sets


def test_removal_curves_measure_each_block_set_once():
    model, data = _with_dead_block(0), _toy(seed=1)
    orders = {"a": [(0,), (0, 1)], "b": [(0,), (1, 2)]}
    curves = removal.removal_curves(model, orders, data, healing=HealConfig(steps=2), seed=0)
    assert curves["a"]["acc"][0] == curves["b"]["acc"][0] == fitting.evaluate(model, data.test)[1]
    assert len(curves["a"]["healed"]) == 2


def test_area_and_spearman_known_answers():
    assert removal.area([1.0, 0.5, 0.0]) == 0.5
    with pytest.raises(ValueError, match="at least one k"):
        removal.area([])
    assert removal.spearman([math.inf, 1, 2, 3], [9, 1, 2, 3]) == pytest.approx(1.0)
    assert removal.spearman([3, 2, 1], [1, 2, 3]) == pytest.approx(-1.0)
    assert math.isnan(removal.spearman([1, 1, 1], [1, 2, 3]))
    assert removal.ranking([0.5, 0.1, 0.1]) == [1, 2, 0]


# -- rules --------------------------------------------------------------------------------------
def test_interval_verdicts():
    assert claims.against(2.1, 3.0, 2.0) == "holds"
    assert claims.against(1.0, 1.9, 2.0) == "does not"
    assert claims.against(1.5, 2.5, 2.0) == "borderline"
    assert claims.against(None, None, 2.0) == "inconclusive"
    assert "borderline" in claims.VERDICTS


def test_study_rules_follow_their_thresholds():
    margin = claims.DEPTH_MATTERS.thresholds["margin"]
    assert claims.depth_matters("conv", t_interval([margin + 5, margin + 6, margin + 5.5])).verdict == "holds"
    assert claims.depth_matters("conv", t_interval([margin - 3, margin + 3, margin])).verdict == "borderline"
    tol = claims.ADAPTIVE_KEEPS.thresholds["tolerance"]
    drop = t_interval([-tol - 5, -tol - 6, -tol - 5.5])
    assert claims.adaptive_keeps("conv", drop, removed_any=True, untrained_below=0, n_seeds=3).verdict == "does not"
    assert claims.adaptive_keeps("conv", drop, removed_any=True, untrained_below=2, n_seeds=3).verdict == "no evidence"
    assert claims.adaptive_keeps("conv", drop, removed_any=False, untrained_below=0, n_seeds=3).verdict == "inconclusive"
    m = claims.RANKS_REMOVABLE.thresholds["margin"]
    better = t_interval([0.01, 0.02, 0.015])
    assert claims.ranks_removable("conv", better, "cka", "holds").verdict == "holds"
    assert claims.ranks_removable("conv", better, "cka", "does not").verdict == "inconclusive"
    worse = t_interval([-m - 0.1, -m - 0.12, -m - 0.11])
    assert claims.ranks_removable("conv", worse, "cka", "borderline").verdict == "does not"


def test_with_shared_weights_every_choice_of_removed_layers_is_the_same_net():
    """Known answer: a shared-weight net applies one map x + f(x) T times, so skipping any k layers leaves
    the same function (the map applied T - k times); every removal strategy coincides on such a net."""
    from resdyn.core.model import DenseResNet, ModelConfig
    from resdyn.lib.surgery import lesion

    model = DenseResNet(ModelConfig(width=12, depth=5, n_classes=3, shared_weights=True), seed=0).eval()
    x = torch.randn(7, 12)
    with torch.no_grad():
        ref = lesion(model, None, [3, 4])(x)
        for cut in ([0, 1], [1, 3], [0, 4], [2, 3]):
            torch.testing.assert_close(lesion(model, None, cut)(x), ref, rtol=0, atol=0)
        assert not torch.equal(lesion(model, None, [4])(x), ref)


def test_the_full_study_runs_five_seeds_with_a_raised_cap_and_names_the_nets_at_the_cap():
    from types import SimpleNamespace

    from resdyn.lib.fitting import at_cap
    from resdyn.studies.experiment import STUDY_1D
    from resdyn.studies.sections import depth1d

    full = STUDY_1D["full"]
    assert len(full.seeds) == 5 and full.fit.max_epochs == 300 and full.fit.patience == 5
    assert not at_cap([{"epoch": 1}, {"epoch": 2, "stopped": True}]) and at_cap([{"epoch": 1}, {"epoch": 2}])
    fam = SimpleNamespace(capped={"1": [], "15": [0, 3]})
    record = SimpleNamespace(families={"mlp": fam})
    assert depth1d.capped_nets(record) == ["mlp depth 15 seed 0", "mlp depth 15 seed 3"]
    assert depth1d.capped_nets(SimpleNamespace(families={"mlp": SimpleNamespace(capped={})})) == []
    old = SimpleNamespace(families={"mlp": SimpleNamespace(capped=None), "conv": fam})
    assert depth1d.capped_nets(old) is None
    assert "was not kept" in depth1d._capped_line(None)
    assert depth1d._capped_line([]).endswith("patience: none.")


def test_the_dense_families_initialization_is_chosen_on_validation_beside_the_learning_rate():
    from types import SimpleNamespace

    from resdyn.lib import zoo
    from resdyn.lib.fitting import FitConfig, NetJob
    from resdyn.lib.data1d import Mnist1dSpec
    from resdyn.studies.experiment import STUDY_1D
    from resdyn.studies.sections import depth1d

    assert zoo.init_candidates("dense") == zoo.init_candidates("dense256") == ("default", "scaled")
    assert zoo.init_candidates("conv") == zoo.init_candidates("transformer") == ("default",)
    # the scaled init: N(0, 0.1^2 / width) and bias -4 on the residual blocks, the lift and the head as built
    built = zoo.SigmoidResNet(40, 3, width=256, seed=0)
    head, lift = built.head.weight.clone(), built.lift.weight.clone()
    scaled = zoo.scaled_init(built, 0)
    w = torch.cat([b.linear.weight.detach().flatten() for b in scaled.blocks])
    assert float(w.std()) == pytest.approx(0.1 / 256 ** 0.5, rel=0.02) and abs(float(w.mean())) < 1e-3
    assert all(bool((b.linear.bias == -4.0).all()) for b in scaled.blocks)
    assert torch.equal(scaled.head.weight, head) and torch.equal(scaled.lift.weight, lift)
    # a default job keeps its cache key; a scaled one has its own, and builds the scaled net
    spec, fit = Mnist1dSpec(num_samples=1000, val_size=200), FitConfig(max_epochs=2)
    plain, other = NetJob("dense", 2, 0, spec, fit), NetJob("dense", 2, 0, spec, fit, init="scaled")
    assert "init" not in plain.settings() and other.settings()["init"] == "scaled" and plain.key() != other.key()
    assert all(bool((b.linear.bias == -4.0).all()) for b in other.build().blocks) and "scaled init" in other.name
    with pytest.raises(ValueError, match="init must be one of"):
        NetJob("conv", 2, 0, spec, fit, init="scaled")
    study = STUDY_1D["quick"]
    jobs = depth1d.selection_jobs(study)
    assert {(j.family, j.init) for j in jobs} == {(f, i) for f in study.families for i in zoo.init_candidates(f)}
    # the joint choice: the lowest validation loss of the kept epoch over (learning rate, initialization)
    losses = {("dense", 3e-3, "default"): 0.5, ("dense", 3e-3, "scaled"): 0.4}
    nets = [SimpleNamespace(job=j, best_epoch=1, history=[{"val_loss": losses.get((j.family, j.fit.lr, j.init), 1.0),
                                                             "val_acc": 0.5}]) for j in jobs]
    lrs, rows = depth1d.choose_lrs(study, nets)
    inits = depth1d.chosen_inits(rows)
    assert inits["dense"] == "scaled" and inits["dense256"] == "default" and inits["conv"] == "default"
    assert sum(r["chosen"] for r in rows) == len(study.families)
    assert {j.init for j in depth1d.ladder_jobs(study, lrs, inits) if j.family == "dense"} == {"scaled"}
    assert depth1d.chosen_inits([{"family": "dense", "lr": 1e-3}]) == {"dense": "default"}  # an older record
