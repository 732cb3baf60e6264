import numpy as np
import pytest
import torch

from resdyn.core.dynamics import class_residual_stats, collect_trajectory, settling_layer, trajectory_distances
from resdyn.lib.embedding import cluster_separation, tsne_embedding
from resdyn.core.model import DenseResNet, ModelConfig


def test_class_stats_known_answer_and_inputs_untouched():
    # class 0: two samples whose residuals are 0 and 2 -> mean 1, std sqrt(2); class 1: 3 and 3 -> 3, 0
    residuals = torch.stack([torch.full((2, 3), v) for v in (0.0, 2.0, 3.0, 3.0)])
    labels = torch.tensor([0, 0, 1, 1])
    copy = residuals.clone()
    stats = class_residual_stats(residuals, labels)
    assert torch.equal(stats.classes, torch.tensor([0, 1])) and torch.equal(stats.counts, torch.tensor([2, 2]))
    torch.testing.assert_close(stats.mean, torch.stack([torch.full((2, 3), 1.0), torch.full((2, 3), 3.0)]))
    torch.testing.assert_close(stats.std[0], torch.full((2, 3), 2**0.5))
    assert torch.equal(stats.std[1], torch.zeros(2, 3))
    assert stats.layer_std.shape == (2, 2) and stats.std_profile.shape == (2,)
    assert torch.equal(residuals, copy)


def test_class_stats_bad_inputs():
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        class_residual_stats(torch.zeros(4, 2, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="class 1 has 1 sample"):
        class_residual_stats(torch.zeros(3, 2, 3), torch.tensor([0, 0, 1]))


@pytest.mark.parametrize(
    "profile, expected",
    [
        ([1.0, 2.0, 0.5, 0.09, 0.05, 0.01], 4),  # peak 2, threshold 0.1: below from layer 4 on
        ([1.0, 0.04, 0.5, 0.04, 0.01], 4),  # dips at layer 2 but rises again
        ([1.0, 0.5, 0.2], None),  # never converges
        ([0.0, 0.0], None),  # no spread at all: nothing is below 5 % of 0
    ],
)
def test_settling_layer(profile, expected):
    assert settling_layer(torch.tensor(profile)) == expected


def test_distances_against_cdist_and_class_summary():
    g = torch.Generator().manual_seed(0)
    residuals = torch.rand(12, 3, 5, generator=g)
    labels = torch.tensor([0] * 4 + [1] * 5 + [2] * 3)
    residuals[labels == 1] += 3.0  # class 1 far from the others
    d = trajectory_distances(residuals, labels)
    flat = residuals.reshape(12, -1).double()
    torch.testing.assert_close(d.distances.double(), torch.cdist(flat, flat), atol=1e-5, rtol=0)
    assert torch.equal(torch.diagonal(d.distances), torch.zeros(12))
    ref = torch.cdist(flat, flat)
    for a in range(3):
        ia = labels == a
        n = int(ia.sum())
        within = ref[ia][:, ia].sum() / (n * (n - 1))
        between = ref[ia][:, ~ia].mean()
        assert d.within[a].item() == pytest.approx(within.item(), rel=1e-5)
        assert d.between[a].item() == pytest.approx(between.item(), rel=1e-5)
        assert d.ratio[a].item() == pytest.approx((within / between).item(), rel=1e-5)
    assert torch.allclose(d.class_mean, d.class_mean.T)
    assert (d.ratio < 1).all()
    layer_major = residuals.transpose(0, 1).contiguous().transpose(0, 1)  # as collect_trajectory stores them
    d_lm = trajectory_distances(layer_major, labels)
    assert all(torch.equal(getattr(d, f), getattr(d_lm, f)) for f in ("distances", "class_mean", "ratio"))
    assert torch.equal(residuals, layer_major)  # the input is not changed


def test_tsne_same_seed_identical_and_separates_clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 20)) * 10
    x = np.concatenate([c + rng.normal(size=(40, 20)) for c in centres])
    y = np.repeat(np.arange(3), 40)
    a = tsne_embedding(torch.tensor(x), seed=1, perplexity=10)
    b = tsne_embedding(x, seed=1, perplexity=10)
    assert a.shape == (120, 2) and np.array_equal(a, b)
    sep = cluster_separation(a, y)
    assert sep.knn_accuracy > 0.95 and sep.silhouette > 0.5
    shuffled = cluster_separation(a, rng.permutation(y))
    assert shuffled.knn_accuracy < 0.6 and shuffled.silhouette < 0.1
    with pytest.raises(ValueError, match="perplexity must be in"):
        tsne_embedding(x, perplexity=100)


def test_collect_trajectory_batches_equal_one_pass():
    model = DenseResNet(ModelConfig(width=8, depth=3, n_classes=2), seed=0)
    x = torch.rand(25, 8)
    whole = model.trajectory(x)
    parts = collect_trajectory(model, x, batch_size=7)
    for a, b in zip(whole, parts):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)
    with torch.no_grad():
        one_batch = model.trajectory(x)
    assert all(torch.equal(a, b) for a, b in zip(one_batch, collect_trajectory(model, x, batch_size=25)))
    assert model.training  # the model's mode is restored
    with pytest.raises(ValueError, match=r"batch_size must be None \(one batch\) or an integer >= 1, got 0"):
        collect_trajectory(model, x, batch_size=0)


def test_change_profile_known_answer():
    # one class, 3 samples with identical trajectories 0, 1, 1.5 per layer: changes 1 and 0.5
    residuals = torch.tensor([0.0, 1.0, 1.5])[None, :, None].repeat(3, 1, 4)
    stats = class_residual_stats(residuals, torch.zeros(3, dtype=torch.long))
    torch.testing.assert_close(stats.change_profile, torch.tensor([1.0, 0.5]))
    assert torch.equal(stats.std_profile, torch.zeros(3))


# -- residuals of any block shape: (n, T, *shape), each layer flattened to (n, T, F) ------------


def _conv_like(layer_major: bool = False):
    """(12, 3, 4, 5) residuals (a conv block's (channels, length) per layer) of 3 classes, and labels."""
    g = torch.Generator().manual_seed(1)
    r = torch.randn(12, 3, 4, 5, generator=g)
    labels = torch.tensor([0, 1, 2] * 4)
    r[labels == 2] += 1.5
    if layer_major:  # as resdyn.lib.trace stores them: layer by layer
        r = r.transpose(0, 1).contiguous().transpose(0, 1)
    return r, labels


@pytest.mark.parametrize("layer_major", [False, True])
def test_class_stats_of_4d_residuals_equal_the_flattened_call(layer_major):
    r, labels = _conv_like(layer_major)
    copy = r.clone()
    four, three = class_residual_stats(r, labels), class_residual_stats(r.reshape(12, 3, 20), labels)
    assert four.mean.shape == (3, 3, 20) and four.std.shape == (3, 3, 20)
    for f in ("classes", "counts", "mean", "std", "std_profile", "change_profile"):
        assert torch.equal(getattr(four, f), getattr(three, f)), f
    assert torch.equal(r, copy)
    assert settling_layer(four.std_profile) == settling_layer(three.std_profile)


@pytest.mark.parametrize("layer_major", [False, True])
def test_distances_of_4d_residuals_equal_the_flattened_call(layer_major):
    r, labels = _conv_like(layer_major)
    four, three = trajectory_distances(r, labels), trajectory_distances(r.reshape(12, 3, 20), labels)
    for f in ("distances", "labels", "classes", "class_mean", "within", "between", "ratio"):
        assert torch.equal(getattr(four, f), getattr(three, f)), f


def test_3d_residuals_are_used_as_they_are():
    from resdyn.core.dynamics import _flat_layers

    r = torch.rand(4, 2, 3).transpose(0, 1).contiguous().transpose(0, 1)
    assert _flat_layers(r) is r
    assert _flat_layers(torch.zeros(4, 2, 3, 5)).shape == (4, 2, 15)


def test_tsne_of_trajectories_equals_the_flattened_call():
    r, _ = _conv_like()
    a = tsne_embedding(r, seed=0, perplexity=3, n_iter=50)
    b = tsne_embedding(r.reshape(12, -1), seed=0, perplexity=3, n_iter=50)
    assert a.shape == (12, 2) and np.array_equal(a, b)
    with pytest.raises(ValueError, match=r"x must have shape \(n, features\) or \(n, \*shape\) with n >= 1, got \(12,\)"):
        tsne_embedding(torch.zeros(12))


@pytest.mark.parametrize("fn", [class_residual_stats, trajectory_distances])
def test_statistics_name_the_shapes_they_take(fn):
    with pytest.raises(ValueError, match=r"residuals must have shape \(n, T, N\), got \(4, 3\).*\(n, T, \*shape\)"):
        fn(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"residuals must have shape .*got list"):
        fn([[0.0]], torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\) to match residuals, got \(4, 1\)"):
        fn(torch.zeros(4, 2, 3, 5), torch.zeros(4, 1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"labels must be a tensor \(4,\)"):
        fn(torch.zeros(4, 2, 3, 5), [0, 0, 1, 1])


def test_tsne_embedding_does_not_depend_on_the_openblas_kernel(tmp_path):
    """The same inputs under two OpenBLAS kernels of one machine give the same embedding, bit for bit
    (with scikit-learn's PCA and BLAS distances they differed by tens of embedding units)."""
    import subprocess
    import sys

    script = ("import sys, numpy as np; from resdyn.core import data; from resdyn.lib.embedding import tsne_embedding; "
              "x = data.load_dataset('digits', scaling='standard').test.x[:150]; "
              "np.save(sys.argv[1], tsne_embedding(x, seed=0, perplexity=10, n_iter=100))")
    outs = []
    for kernel in ("Haswell", "SkylakeX"):
        out = tmp_path / f"{kernel}.npy"
        env = {**__import__("os").environ, "OPENBLAS_CORETYPE": kernel}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, timeout=300)
        outs.append(np.load(out))
    assert np.array_equal(outs[0], outs[1])
