import pytest
import torch

from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.pruning import AdaptiveDepthConfig, convergence_criterion, depth_criterion, remove_last_layers
from resdyn.core.train import TrainConfig, fit


def test_criterion_known_answer():
    residuals = torch.zeros(2, 3, 4)
    residuals[0, 2] = torch.tensor([0.1, -0.1, 0.3, 0.0])  # |y(T) - y(T-1)| sums to 0.5 over 4 neurons
    residuals[1, 1] = torch.tensor([0.2, 0.2, 0.2, 0.2])  # y(T-1) = 0.2, y(T) = 0 -> 0.8 over 4 neurons
    # per sample: 0.5 / 4 = 0.125 and 0.8 / 4 = 0.2; mean over samples 0.1625
    assert convergence_criterion(residuals).item() == pytest.approx(0.1625)
    residuals[:, 0] = 5.0  # earlier layers do not matter
    assert convergence_criterion(residuals).item() == pytest.approx(0.1625)


def test_criterion_needs_two_layers():
    with pytest.raises(ValueError, match=r"shape \(n, T, \*shape\) with T >= 2, got \(3, 1, 4\)"):
        convergence_criterion(torch.zeros(3, 1, 4))


def test_depth_criterion_zero_for_a_fixed_point():
    # shared weights W = 0: every layer gives y = sigmoid(b), so y(T) - y(T-1) = 0 exactly
    model = DenseResNet(ModelConfig(width=6, depth=4, n_classes=2, shared_weights=True, init_scale=0.0, init_bias=0.3))
    assert depth_criterion(model, torch.rand(10, 6)) == 0.0


@pytest.mark.parametrize("shared", [False, True])
def test_remove_last_layers_new_model_and_record(shared):
    model = DenseResNet(ModelConfig(width=6, depth=5, n_classes=2, shared_weights=shared), seed=0)
    x = torch.rand(3, 6)
    before = model(x).clone()
    new, record = remove_last_layers(model, 2)
    assert new.depth == 3 and model.depth == 5
    assert torch.equal(model(x), before)
    assert record.removed_layers == (4, 5) and (record.depth_before, record.depth_after) == (5, 3)
    assert torch.equal(new.trajectory(x).states, model.trajectory(x).states[:, :4])
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 4\]"):
        remove_last_layers(model, 5)


def test_folding_a_constant_residual_keeps_logits():
    # the last layer's W = 0: its residual sigmoid(b) is the same for every input, so removing it
    # and folding its contribution into the read-out bias changes no logit
    model = DenseResNet(ModelConfig(width=6, depth=4, n_classes=3), seed=0)
    with torch.no_grad():
        model.layer(3).weight.zero_()
        model.layer(3).bias.copy_(torch.linspace(-1, 1, 6))
    x = torch.rand(20, 6)
    folded, record = remove_last_layers(model, 1, fold_probe=x[:5])
    plain, _ = remove_last_layers(model, 1)
    assert record.folded_bias
    torch.testing.assert_close(folded(x), model(x), rtol=0, atol=1e-6)
    assert not torch.allclose(plain(x), model(x), atol=1e-3)  # without folding the logits move


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threshold": -0.01}, "threshold must be a number >= 0, got -0.01"),
        ({"min_depth": 1}, "min_depth must be an integer >= 2"),
        ({"max_removals_per_check": 0}, "max_removals_per_check must be an integer >= 1"),
    ],
)
def test_bad_adaptive_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdaptiveDepthConfig(**kwargs)


def test_adaptive_training_removes_layers_and_records_history(digits):
    # threshold = inf: the criterion is always below it, so one layer goes per epoch down to min_depth
    cfg = TrainConfig(epochs=4, batch_size=64, lr=3e-3)
    model = DenseResNet(ModelConfig(width=64, depth=6, shared_weights=True), seed=0)
    result = fit(model, digits, cfg, adaptive=AdaptiveDepthConfig(threshold=float("inf"), min_depth=3), progress=False)
    assert [r.depth for r in result.history] == [5, 4, 3, 3]
    assert [p.removed_layers for p in result.pruning] == [(6,), (5,), (4,)]
    assert all(r.criterion is not None for r in result.history)
    assert result.model.depth == 3 and model.depth == 6
    # threshold 0: never pruned
    kept = fit(model, digits, cfg, adaptive=AdaptiveDepthConfig(threshold=0.0), progress=False)
    assert [r.depth for r in kept.history] == [6, 6, 6, 6] and kept.pruning == []


def test_adaptive_several_removals_per_check(digits):
    cfg = TrainConfig(epochs=2, batch_size=64)  # one check, after epoch 1; none after the last
    model = DenseResNet(ModelConfig(width=64, depth=6), seed=0)
    ad = AdaptiveDepthConfig(threshold=float("inf"), min_depth=2, max_removals_per_check=3)
    result = fit(model, digits, cfg, adaptive=ad, progress=False)
    assert result.model.depth == 3 and len(result.pruning) == 3


def test_adaptive_resume_equals_uninterrupted(digits, tmp_path):
    cfg = TrainConfig(epochs=3, batch_size=64, lr=3e-3)
    ad = AdaptiveDepthConfig(threshold=float("inf"), min_depth=2)
    model = DenseResNet(ModelConfig(width=64, depth=5, shared_weights=False), seed=0)

    class Stop(Exception):
        pass

    def stop(r):
        if r.epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        fit(model, digits, cfg, adaptive=ad, checkpoint=tmp_path / "c.pt", progress=False, callback=stop)
    resumed = fit(model, digits, cfg, adaptive=ad, checkpoint=tmp_path / "c.pt", progress=False)
    straight = fit(model, digits, cfg, adaptive=ad, progress=False)
    assert resumed.model.depth == straight.model.depth == 3  # removals after epochs 1 and 2, not after 3
    for k, v in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[k], v), k


def test_no_removal_after_the_last_epoch_unless_asked(digits):
    from dataclasses import replace

    from resdyn.core.pruning import probe_set

    cfg = TrainConfig(epochs=3, batch_size=64, lr=3e-3)
    model = DenseResNet(ModelConfig(width=64, depth=6, shared_weights=True), seed=0)
    ad = AdaptiveDepthConfig(threshold=float("inf"), min_depth=2)
    result = fit(model, digits, cfg, adaptive=ad, progress=False)
    assert [h.depth for h in result.history] == [5, 4, 4] and [p.epoch for p in result.pruning] == [1, 2]
    assert all(h.criterion is not None for h in result.history)  # recorded after the last epoch too
    assert result.initial_criterion == depth_criterion(model, probe_set(digits.train, ad, seed=0))
    literal = fit(model, digits, cfg, adaptive=replace(ad, prune_after_last_epoch=True), progress=False)
    assert [h.depth for h in literal.history] == [5, 4, 3]  # the paper's loop also removes after the last epoch


def test_probe_set_is_balanced_and_fits_small_classes(digits):
    from resdyn.core.pruning import probe_set

    x = probe_set(digits.train, AdaptiveDepthConfig(probe_size=200), seed=0)
    assert x.shape == (200, 64)
    smallest = int(torch.bincount(digits.train.y).min())
    assert len(probe_set(digits.train, AdaptiveDepthConfig(probe_size=100000), seed=0)) == 10 * smallest


# -- the rule on any model whose blocks are one nn.ModuleList -------------------------------------


class BlockList(torch.nn.Module):
    """x -> blocks (x + relu(W x + b) each, in an nn.ModuleList) -> linear read-out."""

    def __init__(self, d=8, depth=5, classes=3, seed=0):
        super().__init__()
        from models import MLPBlock

        torch.manual_seed(seed)
        self.blocks = torch.nn.ModuleList(MLPBlock(d) for _ in range(depth))
        self.readout = torch.nn.Linear(d, classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.readout(x)


def test_the_criterion_of_a_modulelist_model_is_the_papers():
    from resdyn.lib.surgery import block_criterion, stage_length

    model, x = BlockList(), torch.randn(20, 8)
    states = [x]
    with torch.no_grad():
        for block in model.blocks:
            states.append(block(states[-1]))
    y_last, y_before = states[-1] - states[-2], states[-2] - states[-3]
    assert stage_length(model) == 5
    assert block_criterion(model, x) == pytest.approx(float((y_last - y_before).abs().mean()), rel=1e-6)


def test_the_adaptive_rule_during_training_removes_a_modulelists_last_block():
    """Train a ModuleList model a few epochs with the paper's check after each: with a threshold no
    criterion can stay under (0) nothing goes; with one every criterion is under (inf) one block goes
    per check, the original untouched, and training goes on with the shallower model."""
    from resdyn.core.pruning import check_depth
    from resdyn.lib.surgery import ANY, stage_length

    x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    for threshold, depths in ((0.0, [5, 5, 5]), (float("inf"), [4, 3, 2])):
        model, seen = BlockList(), []
        for epoch in range(3):
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            before = model
            check = check_depth(model, x, AdaptiveDepthConfig(threshold=threshold, min_depth=2), epoch=epoch, rule=ANY)
            model = check.model
            seen.append(stage_length(model))
            assert stage_length(before) == seen[-1] + len(check.removed)  # the input model is not changed
        assert seen == depths and torch.isfinite(loss)


def test_the_same_removal_code_for_a_denseresnet():
    from resdyn.lib import surgery

    model = DenseResNet(ModelConfig(width=6, depth=4, n_classes=2), seed=1)
    cut, record = remove_last_layers(model, 2)
    same = surgery.truncate(model, None, 2)
    general, general_record = surgery.remove_last_blocks(model, 2)
    x = torch.randn(5, 6)
    assert torch.equal(cut(x), same(x)) and torch.equal(general(x), cut(x)) and record.removed_layers == (3, 4)
    assert general_record == record
    blocks, blocks_record = surgery.remove_last_blocks(BlockList(), 2, criterion=0.5, epoch=3)
    assert surgery.stage_length(blocks) == 3
    assert (blocks_record.removed_layers, blocks_record.criterion, blocks_record.epoch) == ((4, 5), 0.5, 3)
    assert surgery.block_criterion(model, x) == depth_criterion(model, x)  # the dense net's own path
    with pytest.raises(ValueError, match="fold_probe folds into a DenseResNet's read-out"):
        surgery.remove_last_blocks(BlockList(), 1, fold_probe=torch.randn(3, 8))
