import pytest
import torch

from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.store import entry_dir
from resdyn.core.train import TrainConfig, accuracy, converged, fit, shuffled, train_or_load
from resdyn.core.trainconfig import EpochRecord

FAST = TrainConfig(epochs=10, batch_size=64, lr=1e-2, seed=0)


def digits_model(**kw):
    return ModelConfig(**{"width": 64, "depth": 4, "n_classes": 10, **kw})


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_training_learns_digits_and_keeps_input_model(digits):
    model = DenseResNet(digits_model(), seed=0)
    before = weights(model)
    chance = accuracy(model, digits.test)
    result = fit(model, digits, FAST, progress=False)
    assert result.test_acc > 0.85 > chance + 0.5
    assert [r.epoch for r in result.history] == list(range(1, 11))
    assert result.history[-1].loss < result.history[0].loss
    for k, v in model.state_dict().items():  # non-destructive: fit trained a copy
        assert torch.equal(v, before[k])


def test_same_seed_gives_bit_identical_weights(digits):
    a = fit(DenseResNet(digits_model(), seed=0), digits, FAST, progress=False)
    b = fit(DenseResNet(digits_model(), seed=0), digits, FAST, progress=False)
    c = fit(DenseResNet(digits_model(), seed=0), digits, TrainConfig(**{**FAST.to_dict(), "seed": 1}), progress=False)
    assert_same_weights(a.model, b.model)
    assert not torch.equal(a.model.readout.weight, c.model.readout.weight)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("shared", [False, True])
def test_resume_after_interrupt_equals_uninterrupted(digits, tmp_path, shared):
    model = DenseResNet(digits_model(shared_weights=shared), seed=0)
    ckpt = tmp_path / "run.pt"

    def stop_after_two(record):
        if record.epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        fit(model, digits, FAST, checkpoint=ckpt, progress=False, callback=stop_after_two)
    assert ckpt.exists() and not list(tmp_path.glob("*.tmp*"))  # written atomically
    resumed = fit(model, digits, FAST, checkpoint=ckpt, progress=False)
    straight = fit(model, digits, FAST, progress=False)
    assert [r.epoch for r in resumed.history] == list(range(1, 11))
    assert_same_weights(resumed.model, straight.model)
    assert resumed.history[-1].loss == straight.history[-1].loss


def test_checkpoint_with_other_settings_is_set_aside_and_training_starts_over(digits, tmp_path):
    from resdyn.core.store import CacheWarning

    ckpt = tmp_path / "run.pt"
    fit(DenseResNet(digits_model()), digits, TrainConfig(epochs=1), checkpoint=ckpt, progress=False)
    other = TrainConfig(epochs=2, lr=0.1)
    with pytest.warns(CacheWarning, match=r"holds another net than this entry is for \(train_config"):
        resumed = fit(DenseResNet(digits_model()), digits, other, checkpoint=ckpt, progress=False)
    assert (tmp_path / "run.pt.corrupt").exists()
    assert_same_weights(resumed.model, fit(DenseResNet(digits_model()), digits, other, progress=False).model)


def test_train_or_load_caches_by_config(digits):
    cfg = TrainConfig(epochs=1, batch_size=64)
    first = train_or_load(digits, digits_model(), cfg, progress=False)
    assert not first.from_cache
    assert (entry_dir(digits, digits_model(), cfg) / "final.pt").exists()
    second = train_or_load(digits, digits_model(), cfg, progress=False)
    assert second.from_cache
    assert_same_weights(first.model, second.model)
    assert second.test_acc == first.test_acc and second.history[-1].val_acc == first.history[-1].val_acc
    other = train_or_load(digits, digits_model(), TrainConfig(epochs=1, batch_size=32), progress=False)
    assert not other.from_cache


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be an integer >= 1, got 0"),
        ({"optimizer": "lbfgs"}, 'Invalid optimizer "lbfgs". Must be one of'),
        ({"schedule": "step"}, 'Invalid schedule "step". Must be one of'),
        ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
        ({"device": "tpu"}, 'Invalid device "tpu"'),
        ({"patience": 0}, r"patience must be None \(train all epochs\) or an integer >= 1, got 0"),
        ({"shuffle_labels": 1}, "shuffle_labels must be True or False, got 1"),
    ],
)
def test_bad_train_config(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_width_mismatch_with_data(digits):
    with pytest.raises(ValueError, match=r"width \(784\) does not match the data's 64 features.*ModelConfig\(width=64\)"):
        fit(DenseResNet(ModelConfig(width=784, depth=2)), digits, FAST, progress=False)


@pytest.mark.parametrize("step, expected", [(0, 1e-2), (25, 0.5 * 1e-2 * (1 + 2 ** -0.5)), (50, 0.5e-2), (75, 0.5 * 1e-2 * (1 - 2 ** -0.5)),
                                            (100, 0.0)])
def test_cosine_schedule_known_answers(step, expected):
    from resdyn.core.train import lr_at

    assert lr_at(TrainConfig(lr=1e-2, schedule="cosine"), step, 100) == pytest.approx(expected, abs=1e-15)
    assert lr_at(TrainConfig(lr=1e-2, schedule="constant"), step, 100) == 1e-2


def test_history_records_the_last_steps_learning_rate(digits):
    cfg = TrainConfig(epochs=2, batch_size=400, lr=1e-2)  # 1,000 samples: 3 steps per epoch, 6 in all
    from resdyn.core.train import lr_at

    h = fit(DenseResNet(digits_model()), digits, cfg, progress=False).history
    assert [r.lr for r in h] == [lr_at(cfg, 2, 6), lr_at(cfg, 5, 6)]


def test_transfer_optimizer_keeps_the_state_of_kept_parameters(digits):
    from resdyn.core.train import _transfer_optimizer, make_optimizer, train_step

    model = DenseResNet(digits_model(depth=3))
    opt = make_optimizer(model, FAST)
    for _ in range(2):
        train_step(model, opt, digits.train.x[:32], digits.train.y[:32], lr=1e-2)
    short = model.truncated(2)
    new = _transfer_optimizer(opt, model, short, FAST)
    old_state = {name: opt.state[p] for name, p in model.named_parameters()}
    assert len(new.state) == len(list(short.parameters())) == 2 * 2 + 2
    for name, p in short.named_parameters():
        for k, v in old_state[name].items():
            assert torch.equal(new.state[p][k], v) and new.state[p][k] is not v  # copied, not shared
    assert "blocks.2.weight" not in dict(short.named_parameters())


def test_fit_with_bias_folding_folds_every_removal(digits):
    from resdyn.core.pruning import AdaptiveDepthConfig

    cfg = TrainConfig(epochs=3, batch_size=64, lr=3e-3)  # removals after epochs 1 and 2
    model = DenseResNet(digits_model(depth=4))
    folded = fit(model, digits, cfg, adaptive=AdaptiveDepthConfig(threshold=float("inf"), fold_bias=True), progress=False)
    plain = fit(model, digits, cfg, adaptive=AdaptiveDepthConfig(threshold=float("inf")), progress=False)
    assert [p.folded_bias for p in folded.pruning] == [True, True] and not any(p.folded_bias for p in plain.pruning)
    # the same training up to the first removal: only the read-out bias differs after it
    assert folded.history[0].loss == plain.history[0].loss
    assert not torch.equal(folded.model.readout.bias, plain.model.readout.bias)


def test_test_set_is_read_once_after_training(digits, monkeypatch):
    import resdyn.core.train as tr

    seen, real = [], tr.accuracy
    monkeypatch.setattr(tr, "accuracy", lambda model, split, **kw: seen.append(len(split)) or real(model, split, **kw))
    result = fit(DenseResNet(digits_model()), digits, TrainConfig(epochs=3, batch_size=64), progress=False)
    assert seen == [297, 297, 297, 500]  # validation after every epoch, the test set once, at the end
    assert result.test_acc == real(result.model, digits.test)


def test_bf16_autocasts_the_products_and_keeps_fp32_weights(digits):
    import collections

    from torch.utils._python_dispatch import TorchDispatchMode

    from resdyn.core.train import make_optimizer, train_step

    class Dtypes(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = collections.Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket in (torch.ops.aten.mm, torch.ops.aten.addmm):
                self.seen[args[-1].dtype] += 1
            return func(*args, **(kwargs or {}))

    model = DenseResNet(digits_model())
    opt = make_optimizer(model, TrainConfig())
    with Dtypes() as bf16:
        train_step(model, opt, digits.train.x[:8], digits.train.y[:8], lr=1e-3, precision="bf16")
    with Dtypes() as fp32:
        train_step(model, opt, digits.train.x[:8], digits.train.y[:8], lr=1e-3, precision="fp32")
    assert set(bf16.seen) == {torch.bfloat16} and set(fp32.seen) == {torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    a = fit(DenseResNet(digits_model()), digits, TrainConfig(epochs=2, batch_size=64, precision="bf16"), progress=False)
    b = fit(DenseResNet(digits_model()), digits, TrainConfig(epochs=2, batch_size=64, precision="fp32"), progress=False)
    assert (a.config.precision, b.config.precision) == ("bf16", "fp32")
    assert not torch.equal(a.model.readout.weight, b.model.readout.weight) and abs(a.test_acc - b.test_acc) < 0.05


def test_auto_precision_follows_the_processor(monkeypatch):
    import resdyn.core.trainconfig as trainconfig

    cpu = torch.device("cpu")
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert TrainConfig().resolved().precision == "fp32"
    assert "no native bf16" in trainconfig.choose_precision(cpu)[1]
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert TrainConfig().resolved().precision == "bf16" and "avx512_bf16" in trainconfig.choose_precision(cpu)[1]
    monkeypatch.setattr(trainconfig, "AUTO_BF16", False)
    assert TrainConfig().resolved().precision == "fp32"
    explicit = TrainConfig(precision="bf16")
    assert explicit.resolved() is explicit
    with pytest.raises(ValueError, match='Invalid precision "fp16". Must be one of'):
        TrainConfig(precision="fp16")


def _fork_threshold(digits, cfg) -> tuple[float, int]:
    """A threshold at which the adaptive run's first removal comes after epoch 2 or later (found from
    the criteria of a run that removes nothing), and that epoch."""
    from resdyn.core.pruning import AdaptiveDepthConfig

    crit = [r.criterion for r in fit(DenseResNet(digits_model()), digits, cfg, adaptive=AdaptiveDepthConfig(threshold=0.0),
                                     progress=False).history]
    k = next(k for k in range(1, len(crit) - 1) if crit[k] < min(crit[:k]))  # a new lowest criterion after epoch k+1
    return (crit[k] + min(crit[:k])) / 2, k + 1


@pytest.mark.parametrize("case", ["first epoch", "later epoch", "never"])
def test_an_adaptive_run_is_the_plain_run_until_its_first_removal(digits, case):
    """What resdyn.lib.parallel.adopt_plain_twin relies on: the depth check reads the net and draws no
    random numbers, so up to its first removal an adaptive run's epochs are the plain run's, and a
    run that removes nothing ends with the plain run's net, bit for bit."""
    from resdyn.core.pruning import AdaptiveDepthConfig

    cfg = TrainConfig(epochs=6, batch_size=64, lr=1e-2)
    threshold, fork = {"first epoch": (float("inf"), 1), "never": (0.0, 6)}.get(case) or _fork_threshold(digits, cfg)
    model = DenseResNet(digits_model(), seed=0)
    adaptive = fit(model, digits, cfg, adaptive=AdaptiveDepthConfig(threshold=threshold), progress=False)
    assert (adaptive.pruning[0].epoch if adaptive.pruning else cfg.epochs) == fork
    straight = fit(model, digits, cfg, progress=False)
    plain = lambda h: [(r.loss, r.train_acc, r.val_acc_unpruned or r.val_acc, r.lr) for r in h]  # noqa: E731
    assert plain(adaptive.history[:fork]) == plain(straight.history[:fork])
    if case == "never":  # nothing removed: the adaptive net is the plain net
        assert_same_weights(adaptive.model, straight.model)
        assert adaptive.test_acc == straight.test_acc


class _Stream:
    """A stderr that records its writes; a terminal or not."""

    def __init__(self, tty: bool):
        self.writes, self.tty = [], tty

    def write(self, s):
        self.writes.append(s)

    def flush(self):
        pass

    def isatty(self):
        return self.tty


_EPOCH = EpochRecord(epoch=2, depth=14, loss=0.12345, train_acc=0.9, val_acc=0.95, seconds=3.21, lr=1e-3, criterion=0.0016)
_LINE = "regime shared seed 0: epoch 2/10: depth 14 loss 0.1235 train 0.9000 val 0.9500 criterion 0.0016 (3.2 s, bf16)\n"


def test_on_a_terminal_the_epoch_line_is_one_write_with_its_newline_above_the_bar(monkeypatch):
    import sys

    from resdyn.core.train import _bar, _log_epoch

    stream = _Stream(tty=True)
    monkeypatch.setattr(sys, "stderr", stream)
    config = TrainConfig(epochs=10, precision="bf16")
    bar = _bar(config, 1, True, "regime shared seed 0: ")
    _log_epoch(_EPOCH, config, "regime shared seed 0: ", bar)
    bar.close()
    assert [w for w in stream.writes if "epoch 2/10" in w] == [_LINE]
    assert bar.n == 2 and "depth 14, loss 0.1235, val 0.9500 criterion 0.0016" in bar.postfix


@pytest.mark.parametrize("kernel, written", [(False, False), (True, True)])
def test_off_a_terminal_a_kernel_shows_one_bar_and_no_epoch_lines_and_a_log_nothing(monkeypatch, kernel, written):
    import sys

    from resdyn.core.train import _bar, _log_epoch

    stream = _Stream(tty=False)
    monkeypatch.setattr(sys, "stderr", stream)
    if kernel:
        monkeypatch.setitem(sys.modules, "ipykernel", sys)
    else:
        monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    config = TrainConfig(epochs=10, precision="bf16")
    bar = _bar(config, 1, True, "regime shared seed 0: ")
    _log_epoch(_EPOCH, config, "regime shared seed 0: ", bar)
    bar.close()
    assert not any("epoch 2/10:" in w for w in stream.writes)
    assert any("regime shared seed 0" in w and "/10 [" in w for w in stream.writes) is written  # the bar, one line
    assert all("\n" not in w for w in stream.writes)  # updated in place (carriage returns), never a new line


# -- the controls of issue 19: shuffled labels, training to convergence ---------------------------

def test_options_added_later_leave_the_cache_key_and_the_spec_as_they_were():
    assert set(TrainConfig().to_dict()) == {"epochs", "batch_size", "optimizer", "lr", "schedule", "momentum",
                                            "weight_decay", "n_train", "seed", "device", "precision"}
    assert TrainConfig(patience=3, shuffle_labels=True).to_dict() | {} == {
        **TrainConfig().to_dict(), "patience": 3, "shuffle_labels": True}


def test_shuffled_labels_are_one_seeded_permutation():
    y = torch.arange(10).repeat(20)
    a, b, c = shuffled(y, seed=0), shuffled(y, seed=0), shuffled(y, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, y)
    assert torch.equal(torch.bincount(a), torch.bincount(y))  # the same classes, in another order


def test_a_net_trained_on_shuffled_labels_learns_nothing_that_generalizes(digits):
    cfg = TrainConfig(epochs=10, batch_size=64, lr=1e-2, seed=0, shuffle_labels=True)
    result = fit(DenseResNet(digits_model(), seed=0), digits, cfg, progress=False)
    assert result.test_acc < 0.3  # chance is 0.1; the same settings learn to > 0.85 with the labels


def _records(losses):
    return [EpochRecord(epoch=i + 1, depth=4, loss=0.0, train_acc=0.0, val_acc=0.0, seconds=0.0, lr=0.0, val_loss=v)
            for i, v in enumerate(losses)]


@pytest.mark.parametrize("losses, patience, expected", [
    ([1.0, 0.9, 0.8], 2, False), ([1.0, 0.9, 0.95, 0.96], 2, True), ([1.0, 0.9, 0.95, 0.89], 2, False),
    ([1.0, 1.0], 1, True), ([1.0], 1, False), ([1.0, 2.0, 3.0], None, False)])
def test_converged_known_answers(losses, patience, expected):
    assert converged(_records(losses), patience) is expected


def test_training_to_convergence_stops_after_patience_epochs_without_improvement(digits):
    # SGD at lr 1e-12 leaves fp32 weights as they are: the validation loss never improves after epoch 1
    frozen = TrainConfig(epochs=20, batch_size=64, optimizer="sgd", lr=1e-12, momentum=0.0, seed=0, patience=3,
                         precision="fp32")
    result = fit(DenseResNet(digits_model(), seed=0), digits, frozen, progress=False)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4]
    assert all(r.val_loss is not None for r in result.history)
    learning = fit(DenseResNet(digits_model(), seed=0), digits, TrainConfig(**{**FAST.to_dict(), "patience": 3}),
                   progress=False)
    assert len(learning.history) > 4 and learning.history[-1].epoch <= FAST.epochs
    assert "val_loss" not in fit(DenseResNet(digits_model(depth=1), seed=0), digits, TrainConfig(epochs=1),
                                 progress=False).history[0].to_dict()


# -- training to convergence keeps the net of its best validation epoch -----------------------------------
CONSTANT = TrainConfig(epochs=10, batch_size=64, lr=1e-2, seed=0, schedule="constant", precision="fp32")
#: A validation loss that falls to its best at epoch 3 and rises after it (patience 2: stop after epoch 5).
SCRIPTED = [1.0, 0.8, 0.5, 0.6, 0.7, 0.9, 1.1]


def _scripted_loss(monkeypatch):
    """fit's validation loss replaced by :data:`SCRIPTED`, one value an epoch (the weights train as ever)."""
    import resdyn.core.train as train_module
    values = iter(SCRIPTED)
    monkeypatch.setattr(train_module, "loss_on", lambda model, split: next(values))


def test_a_run_to_convergence_keeps_the_net_of_its_best_epoch(digits, monkeypatch):
    _scripted_loss(monkeypatch)
    result = fit(DenseResNet(digits_model(), seed=0), digits, TrainConfig(**{**CONSTANT.to_dict(), "patience": 2}),
                 progress=False)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4, 5] and result.best_epoch == 3
    # each epoch's shuffle depends on (seed, epoch) alone, at a constant rate: three epochs are epoch 3's net
    three = fit(DenseResNet(digits_model(), seed=0), digits, TrainConfig(**{**CONSTANT.to_dict(), "epochs": 3}),
                progress=False)
    assert_same_weights(result.model, three.model)
    assert result.test_acc == three.test_acc and result.val_acc == result.history[2].val_acc


def test_a_resumed_run_to_convergence_keeps_the_net_an_uninterrupted_one_keeps(digits, tmp_path, monkeypatch):
    config = TrainConfig(**{**CONSTANT.to_dict(), "patience": 2})
    ckpt = tmp_path / "run.pt"

    def stop_after_four(record):
        if record.epoch == 4:
            raise Interrupt

    _scripted_loss(monkeypatch)
    with pytest.raises(Interrupt):
        fit(DenseResNet(digits_model(), seed=0), digits, config, checkpoint=ckpt, progress=False, callback=stop_after_four)
    # the checkpoint holds the last net (epoch 4) and the best one (epoch 3)
    resumed_values = iter(SCRIPTED[4:])
    import resdyn.core.train as train_module
    monkeypatch.setattr(train_module, "loss_on", lambda model, split: next(resumed_values))
    resumed = fit(DenseResNet(digits_model(), seed=0), digits, config, checkpoint=ckpt, progress=False)
    _scripted_loss(monkeypatch)
    straight = fit(DenseResNet(digits_model(), seed=0), digits, config, progress=False)
    assert resumed.best_epoch == straight.best_epoch == 3 and len(resumed.history) == len(straight.history) == 5
    assert_same_weights(resumed.model, straight.model)
    assert resumed.test_acc == straight.test_acc


def test_stopping_on_validation_accuracy_keeps_the_first_best_accuracy(digits):
    result = fit(DenseResNet(digits_model(), seed=0), digits,
                 TrainConfig(**{**FAST.to_dict(), "patience": 2, "stop_on": "val_acc"}), progress=False)
    accs = [r.val_acc for r in result.history]
    assert result.best_epoch == accs.index(max(accs)) + 1 and result.val_acc == max(accs)
    with pytest.raises(ValueError, match="Invalid stop_on"):
        TrainConfig(stop_on="train_loss")


def test_a_fixed_budget_run_keeps_its_last_epoch_and_its_cache_key(digits):
    from resdyn.core import store
    result = fit(DenseResNet(digits_model(), seed=0), digits, FAST, progress=False)
    assert result.best_epoch == len(result.history) == FAST.epochs and result.val_acc == result.history[-1].val_acc
    # fixed-budget nets train bit for bit as before: their key keeps its version, a run to convergence's does not
    assert store.FIXED_BUDGET_VERSION == 3 < store.CACHE_VERSION
    fixed = store.cache_key(digits, digits_model(), FAST)
    assert fixed == store.cache_key(digits, digits_model(), TrainConfig(**{**FAST.to_dict(), "stop_on": "val_loss"}))
    assert "stop_on" not in FAST.to_dict()


def test_the_cache_gives_back_the_epoch_kept(digits, monkeypatch):
    _scripted_loss(monkeypatch)
    config = TrainConfig(**{**CONSTANT.to_dict(), "patience": 2})
    trained = train_or_load(digits, digits_model(), config, progress=False)
    cached = train_or_load(digits, digits_model(), config, progress=False)
    assert cached.from_cache and cached.best_epoch == trained.best_epoch == 3
    assert_same_weights(cached.model, trained.model)
