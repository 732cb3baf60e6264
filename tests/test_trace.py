"""resdyn.lib.trace, resdyn.lib.streaming and resdyn.lib.surgery against hand computations."""
import copy
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
import torchvision
from torch import nn

from models import ConvResNet1d, InPlaceBlock, PreActBlock1d, WithUnused
from resdyn.lib import criteria
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.lib.streaming import trace_stats
from resdyn.lib.surgery import LesionedDenseResNet, Shortcut, lesion, truncate
from resdyn.lib.trace import trace

RESNET_STAGES = [(64, 8, 8), (128, 4, 4), (256, 2, 2), (512, 1, 1)]


def dense(shared: bool, depth: int = 5) -> DenseResNet:
    return DenseResNet(ModelConfig(width=16, depth=depth, n_classes=3, shared_weights=shared), seed=1)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).eval()  # eval: the hand computations use running stats


@pytest.fixture(scope="module")
def image():
    return torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))


def encoder(norm_first: bool = True, layers: int = 3) -> nn.TransformerEncoder:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


# -- DenseResNet ------------------------------------------------------------------------------
@pytest.mark.parametrize("shared", [False, True])
def test_dense_resnet_trace_is_its_trajectory_bit_for_bit(shared):
    model = dense(shared).train()
    x = torch.rand(7, 16)
    traced = trace(model, x)
    with torch.no_grad():
        ref = model.trajectory(x)
    assert torch.equal(traced.states, ref.states) and torch.equal(traced.residuals, ref.residuals)
    assert torch.equal(traced.output, ref.logits)
    assert traced.names == tuple(f"blocks.{0 if shared else t}" for t in range(5))
    assert traced.transitions == (False,) * 5 and len(traced.stages) == 1
    assert model.training  # the flag is restored
    batched = trace(model, x, batch_size=3)  # rows written into one allocation
    torch.testing.assert_close(batched.states, ref.states, rtol=0, atol=1e-6)
    torch.testing.assert_close(batched.output, ref.logits, rtol=0, atol=1e-6)


# -- transformer ------------------------------------------------------------------------------
def test_pre_norm_transformer_residual_is_attention_plus_mlp():
    model = encoder(norm_first=True).eval()  # eval: layer(x) below takes the fast path, as the trace
    x = torch.randn(4, 5, 8, generator=torch.Generator().manual_seed(1))
    traced = trace(model, x)
    assert traced.names == ("layers.0", "layers.1", "layers.2") and traced.states.shape == (4, 4, 5, 8)
    with torch.no_grad():
        for t, layer in enumerate(model.layers):
            xt = traced.states[:, t]
            h = layer.norm1(xt)
            attention = layer.self_attn(h, h, h, need_weights=False)[0]
            mlp = layer.linear2(layer.activation(layer.linear1(layer.norm2(xt + attention))))
            torch.testing.assert_close(traced.residuals[:, t], attention + mlp, rtol=0, atol=2e-6)
            torch.testing.assert_close(traced.states[:, t + 1], layer(xt), rtol=0, atol=0)
        torch.testing.assert_close(traced.output, model(x), rtol=0, atol=0)


def test_tokens_mean_and_one_token():
    model, x = encoder(), torch.randn(3, 5, 8)
    full = trace(model, x)
    mean, last = trace(model, x, reduce_tokens="mean"), trace(model, x, reduce_tokens=-1)
    assert mean.states.shape == (3, 4, 8) and last.states.shape == (3, 4, 8)
    torch.testing.assert_close(mean.residuals, full.residuals.mean(dim=2), rtol=0, atol=1e-6)
    assert torch.equal(last.states, full.states[:, :, -1])
    with pytest.raises(ValueError, match=r"reduce_tokens=7 needs tensors \(n, tokens, d\).*\(3, 5, 8\)"):
        trace(model, x, reduce_tokens=7)
    with pytest.raises(ValueError, match="reduce_tokens must be 'all', 'mean' or a token index"):
        trace(model, x, reduce_tokens="first")


# -- torchvision resnet18: stages, projections, in-place ops, BatchNorm --------------------------
def basic_block_by_hand(block, x):
    """torchvision BasicBlock without in-place ops: relu(bn2(conv2(relu(bn1(conv1 x)))) + P x)."""
    out = torch.relu(block.bn1(block.conv1(x)))
    out = block.bn2(block.conv2(out))
    shortcut = x if block.downsample is None else block.downsample(x)
    return torch.relu(out + shortcut), shortcut


def test_resnet18_stages_and_projected_residuals(resnet, image):
    traced = trace(resnet, image)
    assert traced.names == tuple(f"layer{s}.{b}" for s in range(1, 5) for b in range(2))
    assert traced.transitions == (False, False, True, False, True, False, True, False)
    assert [tuple(s.states.shape[2:]) for s in traced.stages] == RESNET_STAGES
    assert [s.layers for s in traced.stages] == [(0, 1), (2, 3), (4, 5), (6, 7)]
    with pytest.raises(ValueError, match="4 stages"):
        traced.states
    blocks = [resnet.get_submodule(name) for name in traced.names]
    with torch.no_grad():
        x = resnet.maxpool(resnet.relu(resnet.bn1(resnet.conv1(image))))
        assert torch.equal(traced.stages[0].states[:, 0], x)
        for k, block in enumerate(blocks):
            stage = traced.stages[k // 2]
            out, shortcut = basic_block_by_hand(block, x)
            assert torch.equal(stage.states[:, k % 2 + 1], out)  # x(t+1), after the in-place add and ReLU
            assert torch.equal(stage.residuals[:, k % 2], out - shortcut)  # y = x(t+1) - P x(t)
            if block.downsample is not None:
                assert torch.equal(stage.states[:, 0], block.downsample(x))
            x = out
        assert torch.equal(traced.output, resnet(image))


def test_inputs_are_copied_before_an_in_place_block_overwrites_them():
    torch.manual_seed(0)
    model = nn.Sequential(InPlaceBlock(6), InPlaceBlock(6))
    x = torch.randn(4, 6)
    traced = trace(model, x.clone())
    with torch.no_grad():
        y1 = torch.relu(model[0].linear(x))
        y2 = torch.relu(model[1].linear(x + y1))
    assert traced.names == ("0", "1")
    assert torch.equal(traced.states[:, 0], x)
    torch.testing.assert_close(traced.residuals, torch.stack([y1, y2], dim=1), rtol=0, atol=1e-6)


def test_batchnorm_statistics_and_training_flags_are_unchanged(resnet, image):
    model = copy.deepcopy(resnet).train()
    model.layer2[0].bn1.eval()  # a mixed state, restored as it was
    flags = [m.training for m in model.modules()]
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    trace(model, image)
    assert [m.training for m in model.modules()] == flags
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in buffers.items())
    trace(model, image, mode="current")  # as the model is: train-mode BatchNorm updates its statistics
    assert not torch.equal(buffers["bn1.running_mean"], model.bn1.running_mean)


# -- a 1-D conv ResNet with pre-activation blocks ----------------------------------------------
def test_pre_activation_conv_resnet_residual_is_the_branch():
    model, x = ConvResNet1d().eval(), torch.randn(5, 40)
    traced = trace(model, x)
    assert traced.names == ("blocks.0", "blocks.1", "blocks.2", "blocks.3")
    assert traced.transitions == (False, False, True, False)
    assert [tuple(s.states.shape) for s in traced.stages] == [(5, 3, 8, 40), (5, 3, 16, 20)]
    with torch.no_grad():
        h = model.stem(x[:, None])
        for k, block in enumerate(model.blocks):
            stage = traced.stages[k // 2]
            if k == 2:  # the transition: its stage begins at P x
                torch.testing.assert_close(stage.states[:, 0], block.shortcut(h), rtol=0, atol=0)
            torch.testing.assert_close(stage.residuals[:, k % 2], block.branch(h), rtol=0, atol=1e-6)
            h = block(h)
            torch.testing.assert_close(stage.states[:, k % 2 + 1], h, rtol=0, atol=0)
        torch.testing.assert_close(traced.output, model(x), rtol=0, atol=0)


def test_batches_are_written_into_their_rows():
    model, x = ConvResNet1d().eval(), torch.randn(7, 40)
    whole = trace(model, x)
    for batched in (trace(model, x, batch_size=3), trace(model, x, batch_size=3, grad=True)):
        for a, b in zip(batched.stages, whole.stages):
            torch.testing.assert_close(a.states, b.states, rtol=0, atol=1e-6)
            torch.testing.assert_close(a.residuals, b.residuals, rtol=0, atol=1e-6)
            assert a.states[:, 1].is_contiguous()  # layer by layer
        torch.testing.assert_close(batched.output, whole.output, rtol=0, atol=1e-6)
    assert batched.stages[0].states.requires_grad and not whole.stages[0].states.requires_grad
    first_projects = nn.Sequential(PreActBlock1d(1, 4), PreActBlock1d(4, 4)).eval()  # x(0) (n, 1, L), P x(0) (n, 4, L)
    signals = torch.randn(5, 1, 12)
    one, batched = trace(first_projects, signals), trace(first_projects, signals, batch_size=2)
    assert one.transitions == (True, False) and one.states.shape == (5, 3, 4, 12)
    torch.testing.assert_close(batched.states, one.states, rtol=0, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(one.states[:, 0], first_projects[0].shortcut(signals), rtol=0, atol=0)
    model, tokens = encoder(), torch.randn(5, 4, 8)
    torch.testing.assert_close(trace(model, tokens, reduce_tokens="mean", batch_size=2).states,
                               trace(model, tokens, reduce_tokens="mean").states, rtol=0, atol=1e-6)


# -- streaming --------------------------------------------------------------------------------
def assert_stats_match_full(stats, full, labels):
    for s, stage in zip(stats.stages, full.stages):
        r = stage.residuals.reshape(*stage.residuals.shape[:2], -1).double()
        for c, cls in enumerate(s.classes):
            rc = r[labels == cls]
            torch.testing.assert_close(s.mean[c], rc.mean(dim=0), rtol=1e-6, atol=1e-6)
            torch.testing.assert_close(s.std[c], rc.std(dim=0), rtol=1e-6, atol=1e-6)
        assert s.counts.tolist() == [int((labels == c).sum()) for c in s.classes]
        close = dict(rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(s.convergence, criteria.convergence_profile(stage.residuals), **close)
        torch.testing.assert_close(s.block_influence, criteria.block_influence(stage.states), **close)
        torch.testing.assert_close(s.relative_residual, criteria.relative_residual(stage.states, stage.residuals), **close)
        for span in range(1, len(stage.layers) + 1):
            torch.testing.assert_close(s.angular_distance(span), criteria.angular_distance(stage.states, span), **close)


@pytest.mark.parametrize("shared", [False, True])
def test_streaming_equals_the_full_trace_dense(shared):
    model = dense(shared)
    x, labels = torch.rand(50, 16), torch.arange(50) % 3 + 4
    stats = trace_stats(model, x, labels, batch_size=7)
    assert stats.n == 50 and stats.stages[0].classes.tolist() == [4, 5, 6]
    assert_stats_match_full(stats, trace(model, x), labels)


def test_streaming_equals_the_full_trace_conv_stages():
    model, x, labels = ConvResNet1d().eval(), torch.randn(23, 40), torch.arange(23) % 2
    stats = trace_stats(model, x, labels, batch_size=6)
    assert len(stats.stages) == 2 and stats.transitions == (False, False, True, False)
    assert_stats_match_full(stats, trace(model, x), labels)
    one_class = trace_stats(model, x, batch_size=10).stages[1]
    torch.testing.assert_close(one_class.mean[0], stats.stages[1].mean.mul(
        stats.stages[1].counts[:, None, None]).sum(0) / 23, rtol=1e-6, atol=1e-6)


def test_streaming_keeps_the_precision_of_float64():
    """Nearly constant, tiny residuals (the settled regime): a float32 batch mean, E[y^2] - E[y]^2 or a
    float32 cosine would be off by far more than these tolerances."""
    model = DenseResNet(ModelConfig(width=16, depth=3, n_classes=2, init_scale=0.01, init_bias=-8.0), seed=0)
    x, labels = torch.rand(1000, 16), torch.arange(1000) % 2
    stats, full = trace_stats(model, x, labels, batch_size=500).stages[0], trace(model, x)
    r = full.residuals.double()
    for c in range(2):
        torch.testing.assert_close(stats.mean[c], r[labels == c].mean(dim=0), rtol=1e-9, atol=0)
        torch.testing.assert_close(stats.std[c], r[labels == c].std(dim=0), rtol=1e-5, atol=0)
    torch.testing.assert_close(stats.angular_distance(1), criteria.angular_distance(full.states, 1), rtol=1e-6, atol=0)


def test_streaming_bad_labels():
    with pytest.raises(ValueError, match=r"labels must be an integer tensor of shape \(8,\).*float32"):
        trace_stats(dense(False), torch.rand(8, 16), torch.zeros(8))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        trace_stats(dense(False), torch.rand(8, 16), batch_size=0)


# -- bad input --------------------------------------------------------------------------------
def test_unknown_block_path_lists_the_nearest_names(resnet, image):
    with pytest.raises(ValueError, match=r"blocks='layer1\.3' is not a module path of ResNet; nearest names: .*'layer1\.1'"):
        trace(resnet, image, "layer1.3")
    with pytest.raises(ValueError, match=r"blocks='stage\*\.\*' matches no module name"):
        trace(resnet, image, "stage*.*")
    with pytest.raises(ValueError, match="is not a submodule of the model"):
        trace(resnet, image, [nn.Linear(2, 2)])


def test_glob_matches_direct_children_only():
    model = WithUnused()
    traced = trace(model, torch.randn(3, 6), "layers.*")
    assert traced.names == ("layers.0", "layers.1", "layers.2")  # not layers.0.linear
    picked = trace(model, torch.randn(3, 6), [model.layers[1], "layers.2"])  # modules and paths, in that order
    assert picked.names == ("layers.1", "layers.2") and picked.states.shape == (3, 3, 6)


def test_shape_change_without_projection():
    with pytest.raises(ValueError, match=r"'widen' maps shape \(6,\) to \(12,\) and has no projection shortcut"):
        trace(WithUnused(widen=True), torch.randn(3, 6), ["layers.*", "widen"])


def test_block_never_reached():
    with pytest.raises(ValueError, match=r"model.forward never called \['unused'\]"):
        trace(WithUnused(), torch.randn(3, 6), ["layers.0", "unused"])


def test_something_between_blocks_and_nested_blocks():
    for between in (True, "in place"):  # a new tensor, or the output tensor changed in place
        with pytest.raises(ValueError, match=r"input of 'layers.1' is not the output of 'layers.0'"):
            trace(WithUnused(scale_between=between), torch.randn(3, 6), "layers.*")
    with pytest.raises(ValueError, match=r"'blocks.0' runs inside block 'blocks'"):
        trace(ConvResNet1d().eval(), torch.randn(2, 40), ["blocks", "blocks.0"])


def test_inputs_on_another_device():
    with pytest.raises(ValueError, match=r"x is on device 'meta' but the model is on 'cpu'; move the inputs"):
        trace(dense(False), torch.empty(4, 16, device="meta"))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8"])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match=rf"batch_size must be None \(one batch\) or an integer >= 1, got {bad!r}"):
        trace(dense(False), torch.rand(4, 16), batch_size=bad)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"x must be a tensor of inputs \(n, \.\.\.\) with n >= 1, got \(0, 16\)"):
        trace(dense(False), torch.rand(0, 16))
    with pytest.raises(ValueError, match="a DenseResNet is traced through its own trajectory; pass blocks=None"):
        trace(dense(False), torch.rand(4, 16), "blocks.0")
    with pytest.raises(ValueError, match="mode must be one of"):
        trace(dense(False), torch.rand(4, 16), mode="train")
    with pytest.raises(ValueError, match="found no residual blocks in Linear"):
        trace(nn.Linear(3, 3), torch.rand(2, 3))


# -- surgery ----------------------------------------------------------------------------------
def conv_forward_by_hand(model, x, skip=(), keep=None):
    h = model.stem(x[:, None])
    for k, block in enumerate(list(model.blocks)[:keep]):
        h = block.shortcut(h) if k in skip else block(h)
    return model.head(h.mean(dim=2))


def test_lesion_conv_resnet_at_a_downsampling_block():
    model, x = ConvResNet1d().eval(), torch.randn(6, 40)
    state = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        before = model(x)
    for skip in [(2,), (0, 3)]:
        lesioned = lesion(model, None, skip if len(skip) > 1 else skip[0])
        assert all(isinstance(lesioned.blocks[k], Shortcut) for k in skip)
        with torch.no_grad():
            torch.testing.assert_close(lesioned(x), conv_forward_by_hand(model, x, skip), rtol=0, atol=0)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert not any(isinstance(m, Shortcut) for m in model.modules()) and torch.equal(model(x), before)
    with pytest.raises(ValueError, match=r"t must be a block index in \[0, 3\] or a list of them, got 4"):
        lesion(model, None, 4)


def test_lesion_resnet18_downsample_and_transformer(resnet, image):
    lesioned = lesion(resnet, "layer*.*", 2).eval()
    assert lesioned.layer2[0].projection is not resnet.layer2[0].downsample  # a copy
    with torch.no_grad():
        ref = resnet
        h = ref.maxpool(ref.relu(ref.bn1(ref.conv1(image))))
        h = ref.layer2[1](ref.layer2[0].downsample(ref.layer1(h)))
        h = torch.flatten(ref.avgpool(ref.layer4(ref.layer3(h))), 1)
        assert torch.equal(lesioned(image), ref.fc(h))
    model, x = encoder().eval(), torch.randn(2, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(lesion(model, None, 1)(x), model.layers[2](model.layers[0](x)), rtol=0, atol=0)


@pytest.mark.parametrize("shared", [False, True])
def test_lesion_dense_resnet(shared):
    model, x = dense(shared), torch.rand(6, 16)
    before = model(x)
    lesioned = lesion(lesion(model, None, 1), None, [3])
    assert isinstance(lesioned, LesionedDenseResNet) and lesioned.skipped == {1, 3}
    with torch.no_grad():
        h = x
        for t in (0, 2, 4):
            h = h + torch.sigmoid(model.layer(t)(h))
        assert torch.equal(lesioned(x), model.readout(h))
    assert torch.equal(model(x), before) and len(lesioned.model.blocks) == (1 if shared else 5)
    with pytest.raises(ValueError, match=r"t must be a block index in \[0, 4\]"):
        lesion(model, None, 5)


def test_truncate():
    model, x = ConvResNet1d().eval(), torch.randn(4, 40)
    short = truncate(model, "blocks", 3)
    assert len(short.blocks) == 3 and len(model.blocks) == 4
    with torch.no_grad():
        assert torch.equal(short(x), conv_forward_by_hand(model, x, keep=3))
    enc = truncate(encoder(), None, 2)
    assert len(enc.layers) == 2
    d = dense(True)
    assert torch.equal(truncate(d, None, 2)(torch.ones(1, 16)), d.truncated(2)(torch.ones(1, 16)))
    with pytest.raises(ValueError, match=r"holds its blocks in 4 containers \['layer1', 'layer2', 'layer3', 'layer4'\]"):
        truncate(torchvision.models.resnet18(weights=None), None, 1)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\].*got 5"):
        truncate(model, "blocks", 5)
    with pytest.raises(ValueError, match=r"must name one nn.ModuleList or nn.Sequential.*PreActBlock1d"):
        truncate(model, "blocks.0", 1)


# -- the trace section (resdyn.studies.sections.trace): the paper's statistics on any model -------------


def _samples(n_per_class=6, width=16, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    return torch.randn(len(labels), width, generator=g) + labels[:, None].float(), labels


@pytest.mark.parametrize("shared", [False, True])
def test_section_on_a_dense_net_gives_the_paper_sections_numbers(shared):
    from resdyn.core.data import Split
    from resdyn.core.dynamics import collect_trajectory, trajectory_distances
    from resdyn.studies.sections import fig1ab
    from resdyn.studies.sections import trace as section

    model, (x, labels) = dense(shared, depth=6), _samples()
    rec = section.measure({"net": model}, x, labels)
    m = rec.models["net"]
    _, ref = fig1ab.net_dynamics(model, Split(x, labels))
    assert m.std_profile == ref.profile.std_profile and m.change_profile == ref.profile.change_profile
    assert (m.std_layer, m.mean_layer) == (ref.profile.std_layer, ref.profile.mean_layer)
    ratio = trajectory_distances(collect_trajectory(model, x).residuals, labels).ratio  # as fig1c.measure
    assert m.ratio == ratio.tolist()
    states = model.trajectory(x).states
    assert m.criteria["block_influence"] == criteria.block_influence(states).tolist()
    assert m.criteria["convergence"] == [None] + criteria.convergence_profile(model.trajectory(x).residuals).tolist()
    assert (m.depth, m.stages, m.shapes, m.kind) == (6, [6], [[16]], "DenseResNet")
    assert rec.n_samples == 18 and rec.classes == [0, 1, 2] and rec.conv is None
    with torch.no_grad():
        assert m.accuracy == pytest.approx(float((model(x).argmax(1) == labels).double().mean()))
        assert [r.accuracy for r in m.lesion] == [
            pytest.approx(float((lesion(model, None, t)(x).argmax(1) == labels).double().mean())) for t in range(6)]
    assert [r.name for r in m.lesion] == [f"layer {t}" for t in range(1, 7)]


def test_section_on_a_conv_net_joins_its_stages():
    from resdyn.core.dynamics import class_residual_stats
    from resdyn.studies.sections import trace as section

    model, (x, labels) = ConvResNet1d(channels=(4, 8, 16), blocks_per_stage=2, n_classes=3), _samples(width=12)
    with torch.no_grad():
        model.blocks[2].conv2.weight.zero_()  # block 3 projects (stride 2), its branch adds nothing: y(3) = 0
        model.blocks[3].conv2.weight.zero_()  # block 4: identity shortcut, zero branch: y(4) = 0
    m = section.measure({"conv": model}, x, labels).models["conv"]
    assert (m.depth, m.stages, m.shapes) == (6, [2, 2, 2], [[4, 12], [8, 6], [16, 3]])
    tr = trace(model, x)
    std = [v for s in tr.stages for v in class_residual_stats(s.residuals, labels).std_profile.tolist()]
    assert m.std_profile == std
    assert [v is None for v in m.change_profile] == [False, True, False, True, False]
    assert [v is None for v in m.criteria["convergence"]] == [True, False] * 3
    assert all(len(v) == 6 for v in m.criteria.values())
    assert m.criteria["relative_residual"][2:4] == [0.0, 0.0]
    assert m.criteria["block_influence"][3] == pytest.approx(0, abs=1e-12) and m.criteria["cka"][3] == pytest.approx(1.0)
    assert m.lesion[2].accuracy == m.lesion[3].accuracy == m.accuracy  # skipping a block that adds nothing
    assert [r.name for r in m.lesion] == [f"blocks.{t}" for t in range(6)]
    assert section.standout(m) in (None, m.worst_lesion)


def test_change_settling_across_stages_known_answer():
    from types import SimpleNamespace

    from resdyn.studies.sections.trace import _change_settling

    def stage(change, T):
        return SimpleNamespace(change_profile=torch.tensor(change), std_profile=torch.zeros(T))

    # layers 1-2 | 3-6: the peak 1.0 is in stage 1; stage 2's changes 3->4 0.5, 4->5 and 5->6 0.01 (< 5 %)
    assert _change_settling([stage([1.0], 2), stage([0.5, 0.01, 0.01], 4)]) == 4
    assert _change_settling([stage([1.0], 2), stage([0.5, 0.01, 0.2], 4)]) is None
    assert _change_settling([stage([0.0], 2), stage([0.0, 0.0], 3)]) is None  # nothing moves: no peak
    assert _change_settling([stage([1.0, 0.01], 3)]) == 2  # one stage: the paper's rule


def test_lesion_standout_and_the_record_round_trips():
    from dataclasses import replace

    from pydantic import TypeAdapter
    from records import trace_study, traced_model

    from resdyn.lib.writing import jsonable
    from resdyn.studies.sections import trace as section

    m = traced_model(worst=3)
    assert section.standout(m).block == 3 and m.worst_lesion.block == 3
    tie = traced_model(worst=0)  # every lesion at 0.9
    assert section.standout(tie) is None and tie.worst_lesion.block == 1
    rec = trace_study()
    assert TypeAdapter(section.TraceStudy).validate_python(jsonable(rec)) == rec
    text = section.render(rec, "[`11_trace`](notebooks/11_trace.ipynb)")
    assert text.startswith("## Any residual model: the paper's statistics and the field's criteria")
    # one summary row per model (its worst lesion included); the tables layer by layer are the notebook's
    assert all(f"| {name} | {m.kind} |" in text for name, m in rec.models.items()) and "block 3: 50.00 %" in text
    assert "| t | block |" not in text and "layer by layer" in text
    assert "The conv net: each image read as 28 channels (its rows) of length 28 (its columns); channels [16, 32, 64]" in text
    old = replace(rec, conv=replace(rec.conv, in_channels=1, length=None))  # a record of before the reading was kept
    assert "The conv net: the flattened image read as one signal; channels" in section.render(old, "")
    stored = {k: v for k, v in jsonable(rec)["conv"].items() if k not in ("in_channels", "length")}
    assert TypeAdapter(section.ConvTraining).validate_python(stored) == old.conv
    assert "Adam (lr 0.003), kept epoch 9 of 12 (cap 30) on 10000 samples" in text
    # a record of before the budget was chosen on validation: a fixed number of epochs, as it trained
    fixed = {**stored, "spec": {k: v for k, v in stored["spec"].items() if k != "patience"} | {"epochs": 3}}
    fixed = {k: v for k, v in fixed.items() if k not in ("epochs_trained", "kept_epoch", "capped")}
    fixed = TypeAdapter(section.ConvTraining).validate_python(fixed)
    assert fixed.spec.patience is None and fixed.budget() == "3 epochs"
    assert replace(rec.conv, capped=True, epochs_trained=30).budget() == "kept epoch 9 of 30 (stopped at its cap)"
    assert "conv: ConvResNet1d, 6 layers in 3 stages [2, 2, 2]" in section.describe(rec)
    assert "none stands out" not in section.describe(rec)


def test_the_layer_frame_has_one_row_per_layer_and_the_lesions_where_they_cover_every_block():
    from dataclasses import replace

    from records import trace_study, traced_model

    from resdyn.studies.sections.trace import CRITERIA

    m = traced_model(stages=(2, 2))
    f = m.frame()
    assert list(f.index) == [1, 2, 3, 4] and f.index.name == "layer t"
    assert list(f.columns) == ["block", "std", "change to t+1", *CRITERIA, "accuracy, block skipped"]
    assert f["change to t+1"].isna().tolist() == [False, True, False, True]  # a transition, then the last layer
    assert f["accuracy, block skipped"].tolist() == [0.5, 0.9, 0.9, 0.9]
    assert "accuracy, block skipped" not in replace(m, lesion=m.lesion[:2]).frame().columns
    rec = trace_study()
    both = rec.frame()
    assert list(both.index.names) == ["model", "layer t"] and len(both) == sum(x.depth for x in rec.models.values())
    assert both.loc["conv"].equals(rec.models["conv"].frame())


def test_trace_models_plot_draws_a_row_per_model():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from records import trace_study

    from resdyn.studies import plots

    fig = plots.trace_models(trace_study())
    assert len(fig.axes) == 9 and all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    plt.close(fig)


def test_trace_models_plot_shows_lesions_as_drops_from_the_intact_net_and_the_conv_net_s_training():
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from records import trace_study

    from resdyn.studies import plots

    rec = trace_study()
    fig = plots.trace_models(rec)
    rows = fig.axes
    for i, (name, m) in enumerate(rec.models.items()):
        ax = rows[3 * i + 2]
        heights = [p.get_height() for p in ax.patches[:len(m.lesion)]]
        assert heights == pytest.approx([100 * (r.accuracy - m.accuracy) for r in m.lesion])  # drops, in points
        assert ax.get_ylim()[1] < 10  # not a 0-100 % axis: a drop of a tenth of a point stays visible
        assert f"intact: {100 * m.accuracy:.2f} %" in ax.get_title()
    conv = rows[3 * list(rec.models).index("conv")].get_title()
    assert "kept epoch 9 of 12 (cap 30) on 10,000 images" in conv and "test accuracy 97.0 %" in conv
    plt.close(fig)


def test_train_conv_is_seeded():
    from resdyn.core.data import Dataset, Split
    from resdyn.studies.sections.trace import ConvSpec, train_conv

    x, labels = _samples(n_per_class=8, width=12)
    data = Dataset("toy", Split(x, labels), Split(x, labels), Split(x, labels), 3, (1, 12), "standard")
    spec = ConvSpec([4, 8], 1, n_train=20, epochs=3, batch_size=8, lr=1e-2, patience=1)
    (a, info), (b, _) = train_conv(data, spec, seed=3), train_conv(data, spec, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert (info.n_train, info.seed, info.spec) == (20, 3, spec) and 0 <= info.test_acc <= 1
    assert 1 <= info.kept_epoch <= info.epochs_trained <= 3 and info.capped == (info.kept_epoch == 3)  # patience 1: an epoch without gain stops
    with pytest.raises(ValueError, match="spec.patience is None"):
        train_conv(data, replace(spec, patience=None), seed=3)
    assert not a.training
    assert (info.in_channels, info.length, a.stem.in_channels) == (1, 12, 1)
    rows = Dataset("toy", Split(x, labels), Split(x, labels), Split(x, labels), 3, (3, 4), "standard")
    m, info = train_conv(rows, spec, seed=3)
    assert (info.in_channels, info.length, m.stem.in_channels) == (3, 4, 3)  # an image's rows as channels


def test_conv_net_reads_the_flat_input_as_in_channels_signals():
    x = torch.randn(5, 12)
    one, rows = ConvResNet1d(channels=(4,), seed=1).eval(), ConvResNet1d(channels=(4,), seed=1, in_channels=3).eval()
    with torch.no_grad():
        assert torch.equal(one.stem(x[:, None]), one.stem(x.reshape(5, 1, 12)))
        assert torch.equal(rows(x), rows.head(rows.blocks(rows.stem(x.view(5, 3, 4))).mean(dim=2)))
        assert rows.stem.weight.shape == (4, 3, 3)
    with pytest.raises(ValueError, match="x has 12 features, not a multiple of in_channels=5"):
        ConvResNet1d(in_channels=5)(x)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        ConvResNet1d(in_channels=0)


def test_a_lesion_stands_out_against_the_median_block_and_the_essential_blocks_are_named():
    from records import traced_model

    from resdyn.studies.sections import trace as section
    from resdyn.studies.sections.trace import LesionRow

    m = traced_model(worst=3)  # every lesion at 0.9 but block 3's, at 0.5
    assert [r.block for r in section.essential(m)] == [3]
    # two blocks both far below the median: the old rule (against every other block) saw none stand out
    two = replace(m, lesion=[LesionRow(t, f"blocks.{t - 1}", {2: 0.5, 5: 0.505}.get(t, 0.9)) for t in range(1, 16)])
    assert section.standout(two).block == 2 and [r.block for r in section.essential(two)] == [2, 5]
    # one block just at the margin below the median is essential; one just inside it is not
    edge = replace(m, lesion=[LesionRow(1, "a", 0.88), LesionRow(2, "b", 0.9), LesionRow(3, "c", 0.885), LesionRow(4, "d", 0.9),
                              LesionRow(5, "e", 0.9)])
    assert [r.block for r in section.essential(edge)] == [1] and section.standout(edge).block == 1
    assert section.essential(traced_model(worst=0)) == [] and section.standout(traced_model(worst=0)) is None
    one = replace(m, lesion=[LesionRow(1, "a", 0.3)])
    assert section.essential(one) == [] and section.standout(one).block == 1
    assert "essential blocks: 2, 5" in section.describe(SimpleNamespace(models={"two": two}))
    assert "none stands out (none by 0.02 or more); essential blocks: none" in section.describe(
        SimpleNamespace(models={"tie": traced_model(worst=0)}))
