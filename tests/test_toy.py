"""The two-circles toy (resdyn.studies.sections.toy): the data, the verdict rule's boundaries, one quick run."""
import json
import math
from dataclasses import replace

import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from resdyn.core import claims
from resdyn.studies import plots
from resdyn.studies.sections import toy
from resdyn.studies.sections.common import censored_depth  # noqa: E402
from resdyn.lib.writing import jsonable  # noqa: E402

DATA = dict(n_train=40, n_val=10, n_test=31, noise=0.05, factor=0.5, width=6, seed=3)


# -- data -------------------------------------------------------------------------------------


def test_circles_shapes_dtypes_and_splits():
    d = toy.circles(**DATA)
    assert (d.name, d.n_classes, d.n_features) == ("circles", 2, 6)
    for split, n in ((d.train, 40), (d.val, 10), (d.test, 31)):
        assert split.x.shape == (n, 6) and split.x.dtype == torch.float32
        assert split.y.shape == (n,) and split.y.dtype == torch.int64
        assert set(split.y.tolist()) == {0, 1}
    # the splits are separate draws, not copies of each other
    assert not torch.equal(d.train.x[:10], d.val.x)


def test_circles_class_balance_in_every_split():
    d = toy.circles(**DATA)
    for split, n in ((d.train, 40), (d.val, 10), (d.test, 31)):
        assert torch.bincount(split.y).tolist() == [n // 2, n - n // 2]  # outer, inner


def test_lifting_keeps_the_point_and_pads_with_zeros():
    # noise 0: the outer circle (label 0) has radius 1, the inner radius `factor`, at evenly spaced angles
    d = toy.circles(**{**DATA, "noise": 0.0, "factor": 0.3})
    for split in (d.train, d.val, d.test):
        assert torch.count_nonzero(split.x[:, 2:]) == 0
        radius = split.x[:, :2].norm(dim=1)
        expected = torch.where(split.y == 0, 1.0, 0.3)
        torch.testing.assert_close(radius, expected, atol=1e-6, rtol=0)
        outer = split.x[split.y == 0, :2].double()
        angles = torch.sort(torch.atan2(outer[:, 1], outer[:, 0]) % (2 * math.pi)).values
        n = len(outer)
        grid = torch.arange(n, dtype=torch.float64) * 2 * math.pi / n
        torch.testing.assert_close(angles, grid, atol=1e-5, rtol=0)


def test_circles_are_reproducible_by_seed():
    a, b, c = toy.circles(**DATA), toy.circles(**DATA), toy.circles(**{**DATA, "seed": 4})
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(a, name).x, getattr(b, name).x)
        assert torch.equal(getattr(a, name).y, getattr(b, name).y)
    assert not torch.equal(a.train.x, c.train.x)


@pytest.mark.parametrize("change", [
    {"n_train": 1}, {"n_val": 0}, {"n_test": 2.0}, {"width": 1}, {"width": True}, {"noise": -0.1},
    {"noise": float("inf")}, {"factor": 0.0}, {"factor": 1.0}, {"seed": -1},
])
def test_circles_rejects_bad_inputs(change):
    with pytest.raises(ValueError, match=next(iter(change))):
        toy.circles(**{**DATA, **change})


# -- the verdict rule -------------------------------------------------------------------------


def net(final_depth=15, test_acc=1.0, *, censored=False, initial_criterion=2e-2):
    return toy.ToyNet(initial_depth=15, final_depth=final_depth, test_acc=test_acc, val_acc=test_acc,
                      initial_criterion=initial_criterion, depth=[final_depth] * 3, criterion=[0.02] * 3,
                      val_acc_history=[test_acc] * 3, always_below=False, censored=censored, train_seconds=1.0)


def record(shared=None, separate=None):
    return toy.ToyCircles(setup=toy.SETUP.to_dict(), nets={"separate": separate or net(), "shared": shared or net(5)},
                          seconds=1.0)


def verdict(rec, which):
    return {v.key: v for v in claims.toy_verdicts(rec)}[f"toy_{which}"].verdict


@pytest.mark.parametrize("depth, acc, expected", [
    (5, 1.0, "holds"),
    (6, 0.99, "holds"),          # both on their thresholds
    (7, 0.99, "partly"),         # pruned with the accuracy, one layer too deep
    (6, 0.989, "partly"),        # the depth without the accuracy
    (14, 1.0, "partly"),
    (15, 1.0, "does not"),       # not pruned at all
    (7, 0.98, "does not"),       # pruned, but neither the depth nor the accuracy
])
def test_shared_rule_boundaries(depth, acc, expected):
    assert verdict(record(shared=net(depth, acc)), "shared") == expected


@pytest.mark.parametrize("depth, expected", [(15, "holds"), (14, "does not"), (3, "does not")])
def test_separate_rule_keeps_all_layers(depth, expected):
    assert verdict(record(separate=net(depth)), "separate") == expected


def test_censored_depth_is_inconclusive_whatever_the_numbers():
    rec = record(shared=net(5, 1.0, censored=True), separate=net(15, censored=True))
    assert verdict(rec, "shared") == verdict(rec, "separate") == "inconclusive"


@pytest.mark.parametrize("which", ["shared", "separate"])
def test_criterion_under_the_threshold_before_training_is_no_evidence(which):
    """The control clause: a rule that would prune the untrained net proves nothing about training."""
    nets = {which: net(5 if which == "shared" else 15, 1.0, initial_criterion=9.9e-3)}
    assert verdict(record(**nets), which) == "no evidence"
    nets = {which: net(5 if which == "shared" else 15, 1.0, initial_criterion=1e-2)}  # on the threshold: not under
    assert verdict(record(**nets), which) == "holds"


def test_verdict_rows_say_what_was_measured():
    rows = claims.toy_verdicts(record(shared=net(2, 0.9991, censored=True, initial_criterion=1.28e-05)))
    assert [v.key for v in rows] == ["toy_separate", "toy_shared"]
    shared = rows[1]
    assert shared.paper == "5 layers, 100 % accuracy"
    assert shared.ours == "depth 2 of 15 (censored), test accuracy 99.9 %"
    assert shared.controls == "criterion before training 1.3e-05 (threshold 0.01)"
    assert "6 layers or fewer with test accuracy at least 99%" in claims.TOY.describe()


@pytest.mark.parametrize("criteria, depth, expected", [
    ([0.001, 0.002, 0.02], 13, (True, True)),     # under the threshold at every check: set by the epochs
    ([0.02, 0.001, 0.005], 14, (False, True)),    # still under it when training ended
    ([0.001, 0.02, 0.02], 2, (False, True)),      # hit the minimum depth
    ([0.001, 0.02, 0.02], 14, (False, False)),
    ([0.02, 0.02, 0.001], 2, (False, True)),
    ([0.005], 15, (False, True)),                 # one epoch: no check, criterion under the threshold at the end
])
def test_censored_depth(criteria, depth, expected):
    assert censored_depth(criteria, 0.01, 2, depth) == expected


# -- one quick run ----------------------------------------------------------------------------


def test_quick_run_end_to_end():
    threads = torch.get_num_threads()
    setup = replace(toy.QUICK_SETUP, n_train=200, n_val=50, n_test=100, epochs=6)
    rec = toy.run(setup=setup, seed=1, log=None, grid=21)
    assert torch.get_num_threads() == threads  # restored
    assert rec.setup == {**setup.to_dict(), "seed": 1}
    for name, a in rec.nets.items():
        assert len(a.depth) == len(a.criterion) == len(a.val_acc_history) == 6
        steps = np.diff([15, *a.depth])
        assert set(steps.tolist()) <= {0, -1}  # at most one layer per check
        assert a.depth[-1] == a.depth[-2] == a.final_depth  # nothing removed after the last epoch
        assert (a.always_below, a.censored) == censored_depth(a.criterion, 0.01, 2, a.final_depth)
        assert 0 <= a.test_acc <= 1 and a.initial_criterion >= 0
        assert rec.predictions[name].shape == (21, 21)
    assert rec.points.shape == (100, 2) and rec.labels.shape == (100,)
    saved = json.loads(json.dumps(jsonable(rec)))
    assert set(saved) == {"setup", "nets", "seconds"}  # the figure's data are not saved
    assert saved["nets"]["shared"]["depth"] == rec.nets["shared"].depth
    assert len(claims.toy_verdicts(rec)) == 2

    again = toy.run(setup=setup, seed=1, log=None, grid=21)
    assert again.nets["shared"].criterion == rec.nets["shared"].criterion  # same seed, same run

    fig = plots.toy_circles(rec)
    assert len(fig.axes) == 5  # two panels with a twin axis each, and the data
    plt.close(fig)
    fig, axes = plt.subplots(1, 3)
    assert plots.toy_circles(replace(rec, points=None), axes=axes) is fig
    plt.close(fig)
