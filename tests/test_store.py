"""The model cache: one save format, and damaged entries that are set aside instead of wedging the project."""
import shutil

import pytest
import torch

from resdyn.core import store
from resdyn.core.pruning import AdaptiveDepthConfig
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.train import TrainConfig, fit, train_or_load

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
    # the epoch kept and a run to convergence's best net so far are optional: files written before them still load
    assert final.keys() == ckpt.keys() == set(store._KEYS) | {"optimizer_state", "best_epoch", "best"}
    assert final["best_epoch"] == len(result.history) and final["best"] is None and ckpt["best"] is None
    assert final["data_spec"] == ckpt["data_spec"] == digits.spec()  # both name the data they were trained on
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
              store.cache_key(digits, model_config(), CFG, adaptive=AdaptiveDepthConfig())]
    assert len({base, *others}) == 4


def test_atomic_save_leaves_no_temporary(tmp_path):
    store.atomic_save({"a": torch.ones(2)}, tmp_path / "x.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


# -- a cache entry proves what it is ------------------------------------------------------------


def test_a_swapped_entry_is_set_aside_and_the_net_trained_again(digits):
    from resdyn.core.store import CacheWarning, entry_dir

    wanted, other = TrainConfig(epochs=1, batch_size=64, seed=5), TrainConfig(epochs=1, batch_size=64, seed=6)
    straight = train_or_load(digits, model_config(), wanted, progress=False, cache=False)
    train_or_load(digits, model_config(), other, progress=False)
    folder = entry_dir(digits, model_config(), wanted)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(entry_dir(digits, model_config(), other) / "final.pt", folder / "final.pt")  # another net's save
    with pytest.warns(CacheWarning, match=r"holds another net than this entry is for \(train_config"):
        again = train_or_load(digits, model_config(), wanted, progress=False)
    assert not again.from_cache and (folder / "final.pt.corrupt").exists()
    for a, b in zip(again.model.parameters(), straight.model.parameters()):
        assert torch.equal(a, b)


def test_a_checkpoint_of_another_model_is_set_aside_not_resumed(digits, tmp_path):
    from resdyn.core.store import CacheWarning

    ckpt = tmp_path / "run.pt"
    fit(DenseResNet(ModelConfig(width=64, depth=3, n_classes=10, shared_weights=True)), digits, CFG, checkpoint=ckpt,
        progress=False)
    with pytest.warns(CacheWarning, match="model_config"):
        resumed = fit(DenseResNet(model_config()), digits, CFG, checkpoint=ckpt, progress=False)
    straight = fit(DenseResNet(model_config()), digits, CFG, progress=False)
    assert resumed.model.depth == model_config().depth and len(resumed.history) == len(straight.history)
    for a, b in zip(resumed.model.parameters(), straight.model.parameters()):
        assert torch.equal(a, b)


def test_mismatch_allows_only_a_shallower_adaptive_model():
    want = store.settings(model_config(), CFG, AdaptiveDepthConfig(), {"name": "digits"})
    pruned = {**want, "model_config": {**want["model_config"], "depth": 2}}
    assert store.mismatch(pruned, want) is None
    deeper = {**want, "model_config": {**want["model_config"], "depth": 99}}
    assert "model_config" in store.mismatch(deeper, want)
    plain = store.settings(model_config(), CFG, None, {"name": "digits"})
    assert "model_config" in store.mismatch({**plain, "model_config": pruned["model_config"]}, plain)
    assert "adaptive" in store.mismatch({**want, "adaptive": None}, want)


#: The fingerprint of the code that determines a trained net (store.TRAINING_CODE, docstrings and
#: comments aside), for each cache version. When this test fails: if the change alters what a
#: configuration trains to, bump store.CACHE_VERSION; then add the new fingerprint here.
# 3: the core's refactor (the criterion defined once, one dense trajectory function that the depth check
# calls, the plain-twin fork out of fit; dynamics.py fingerprinted since the check runs through it):
# trained nets bit-identical (same random draws, same ops)
# 4: a run to convergence keeps the net of its best validation epoch (its checkpoint holds that net too);
# fixed-budget nets bit-identical, their key keeps version 3 (store.FIXED_BUDGET_VERSION); then training's
# progress shown as one tqdm.auto bar per run (display only: the same ops on the same draws)
FINGERPRINTS = {3: "2d6a852b6a909af8",  # the move into core/lib/studies/run (imports, paths); trained nets unchanged
                4: "7b08cda2a495df49"}


def _training_code_fingerprint() -> str:
    import ast
    import hashlib

    from resdyn.core import paths

    h = hashlib.sha256()
    for name in store.TRAINING_CODE:
        tree = ast.parse((paths.REPO_ROOT / "resdyn" / name).read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        h.update(name.encode() + ast.dump(tree).encode())
    return h.hexdigest()[:16]


def test_training_code_has_not_drifted_from_the_cache_version():
    got = _training_code_fingerprint()
    assert FINGERPRINTS.get(store.CACHE_VERSION) == got, (
        f"the code that trains nets ({', '.join(store.TRAINING_CODE)}) changed: if trained nets change, bump "
        f"resdyn.core.store.CACHE_VERSION; then set FINGERPRINTS[{store.CACHE_VERSION}] = {got!r} in tests/test_store.py")


def test_a_foreign_pickle_is_reported_in_resdyns_words(tmp_path):
    import pickle

    path = tmp_path / "final.pt"
    torch.save({"format": 2, "x": pickle.dumps}, path)  # a function: torch's weights-only loader refuses it
    with pytest.warns(store.CacheWarning) as caught:
        assert store.load(path) is None
    text = str(caught[0].message)
    assert "not a resdyn save file" in text and "weights_only" not in text and "resdyn cache:" in text


def test_an_entry_of_the_same_net_on_other_data_is_set_aside(digits):
    from resdyn.core.data import load_dataset
    from resdyn.core.store import CacheWarning, entry_dir

    other_data = load_dataset("digits", scaling="centered")
    assert other_data.spec() != digits.spec()
    cfg = TrainConfig(epochs=1, batch_size=64, seed=8)
    train_or_load(other_data, model_config(), cfg, progress=False)
    folder = entry_dir(digits, model_config(), cfg)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(entry_dir(other_data, model_config(), cfg) / "final.pt", folder / "final.pt")
    with pytest.warns(CacheWarning, match="holds another net than this entry is for \\(data_spec"):
        assert not train_or_load(digits, model_config(), cfg, progress=False).from_cache
    assert train_or_load(digits, model_config(), cfg, progress=False).from_cache  # its own save now


def test_mismatch_names_what_the_file_holds_and_what_was_asked_for():
    want = store.settings(model_config(), CFG, None, {"name": "digits"})
    assert store.mismatch(want, want) is None
    assert store.mismatch({**want, "data_spec": {"name": "mnist"}}, want) == \
        "data_spec {'name': 'mnist'} where {'name': 'digits'} was asked for"
    for key in want:  # a setting the file does not record is a difference, not a pass
        assert store.mismatch({k: v for k, v in want.items() if k != key}, want) == \
            f"no {key} where {want[key]} was asked for"
