"""The model cache: one save format, and damaged entries that are set aside instead of wedging the project."""
import pytest
import torch

from resdyn import store
from resdyn.model import DenseResNet, ModelConfig
from resdyn.train import TrainConfig, fit, train_or_load

CFG = TrainConfig(epochs=2, batch_size=64, lr=1e-2)


def model_config():
    return ModelConfig(width=64, depth=3, n_classes=10)


def same_weights(a, b):
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other_format"])
def test_damaged_cache_entry_is_set_aside_and_the_net_retrained(digits, damage):
    first = train_or_load(digits, model_config(), CFG, progress=False)
    final = store.entry_dir(digits, model_config(), CFG) / "final.pt"
    good = final.read_bytes()
    if damage == "truncate":  # what a full disk or a killed copy leaves
        final.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        final.write_bytes(b"not a checkpoint" * 100)
    elif damage == "empty":
        final.write_bytes(b"")
    else:
        saved = torch.load(final, weights_only=True)
        torch.save({**saved, "format": 99}, final)
    with pytest.warns(store.CacheWarning, match=rf"{final} could not be read .* moved it to {final}\.corrupt"):
        again = train_or_load(digits, model_config(), CFG, progress=False)
    assert not again.from_cache and same_weights(again.model, first.model)  # retrained, bit-identical
    assert (final.parent / "final.pt.corrupt").exists() and final.exists()
    assert train_or_load(digits, model_config(), CFG, progress=False).from_cache  # the new entry is good


def test_a_second_damaged_file_does_not_overwrite_the_first(tmp_path):
    for i in range(3):
        (tmp_path / "final.pt").write_bytes(b"x" * (i + 1))
        with pytest.warns(store.CacheWarning):
            assert store.load(tmp_path / "final.pt") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.pt.corrupt", "final.pt.corrupt2", "final.pt.corrupt3"]
    assert (tmp_path / "final.pt.corrupt2").read_bytes() == b"xx"


def test_damaged_checkpoint_starts_training_afresh(digits, tmp_path):
    ckpt = tmp_path / "run.pt"
    ckpt.write_bytes(b"\x00" * 1000)
    with pytest.warns(store.CacheWarning, match="run.pt could not be read"):
        resumed = fit(DenseResNet(model_config()), digits, CFG, checkpoint=ckpt, progress=False)
    straight = fit(DenseResNet(model_config()), digits, CFG, progress=False)
    assert same_weights(resumed.model, straight.model) and len(resumed.history) == 2


def test_one_format_for_checkpoints_and_final_nets(digits, tmp_path):
    result = train_or_load(digits, model_config(), CFG, progress=False)
    folder = store.entry_dir(digits, model_config(), CFG)
    final = torch.load(folder / "final.pt", weights_only=True)
    ckpt_path = tmp_path / "ckpt.pt"
    fit(DenseResNet(model_config()), digits, CFG, checkpoint=ckpt_path, progress=False)
    ckpt = torch.load(ckpt_path, weights_only=True)
    assert final.keys() == ckpt.keys()
    assert final["format"] == ckpt["format"] == store.FORMAT
    assert final["optimizer_state"] is None and ckpt["optimizer_state"] is not None
    assert final["train_config"] == CFG.resolved().to_dict() and [h["epoch"] for h in final["history"]] == [1, 2]
    assert final["test_acc"] == result.test_acc and ckpt["test_acc"] is None
    loaded = store.load(folder / "final.pt")
    assert same_weights(loaded["model"], result.model)


def test_cache_key_depends_on_every_setting(digits):
    base = store.cache_key(digits, model_config(), CFG)
    assert store.cache_key(digits, model_config(), CFG) == base
    others = [store.cache_key(digits, ModelConfig(width=64, depth=4, n_classes=10), CFG),
              store.cache_key(digits, model_config(), TrainConfig(epochs=2, batch_size=64, lr=1e-2, seed=1)),
              store.cache_key(digits, model_config(), CFG, adaptive=__import__("resdyn").AdaptiveDepthConfig())]
    assert len({base, *others}) == 4


def test_atomic_save_leaves_no_temporary(tmp_path):
    store.atomic_save({"a": torch.ones(2)}, tmp_path / "x.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]
