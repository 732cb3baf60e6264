"""Cache files prove what they hold: a checkpoint or finished net records everything that determines
it (its data among them) and is set aside where that is not what was asked for or is missing; the
MNIST-1D arrays and the MNIST-1D study's nets are checked the same way. Each case ends with the net
or the data a clean run gives."""
import re
import shutil
import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from resdyn.lib import data1d, fitting
from resdyn.core import store
from resdyn.core.data import Dataset, Split
from resdyn.lib.fitting import FitConfig, NetJob
from resdyn.core.model import DenseResNet, ModelConfig
from resdyn.core.pruning import AdaptiveDepthConfig
from resdyn.core.store import CacheWarning
from resdyn.core.train import TrainConfig, fit, train_or_load

MODEL = ModelConfig(width=8, depth=2, n_classes=2)
CFG = TrainConfig(epochs=3, batch_size=16, lr=1e-2, seed=3)


def synthetic(scaling: str) -> Dataset:
    """A tiny two-class set; ``"unit"``: inputs in [0, 1], ``"standard"``: the same inputs standardized.
    The two differ only in their data (their ``spec()`` in ``scaling``)."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(120, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 1).long()
    if scaling == "standard":
        x = (x - x.mean(0)) / x.std(0)
    split = lambda a, b: Split(x[a:b], y[a:b])  # noqa: E731
    return Dataset(name="synthetic", train=split(0, 80), val=split(80, 100), test=split(100, 120), n_classes=2,
                   image_shape=(2, 4), scaling=scaling)


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def one_warning(caught) -> str:
    messages = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
    assert len(messages) == 1, messages
    return messages[0]


# -- the model cache: a file names its data -------------------------------------------------------


def test_a_checkpoint_of_the_same_net_on_other_data_is_set_aside_and_the_net_retrained(tmp_path):
    unit, standard = synthetic("unit"), synthetic("standard")
    assert {k for k in unit.spec() if unit.spec()[k] != standard.spec()[k]} == {"scaling"}
    other = tmp_path / "unit.pt"  # a complete checkpoint of the entry on [0, 1] inputs
    on_unit = fit(DenseResNet(MODEL, seed=CFG.seed), unit, CFG, checkpoint=other, progress=False)
    folder = store.entry_dir(standard, MODEL, CFG)
    folder.mkdir(parents=True)
    shutil.copy(other, folder / "checkpoint.pt")
    with pytest.warns(CacheWarning) as caught:
        result = train_or_load(standard, MODEL, CFG, progress=False)
    text = one_warning(caught)
    assert str(folder / "checkpoint.pt") in text and f"moved it to {folder / 'checkpoint.pt.corrupt'}" in text
    assert f"data_spec {unit.spec()} where {standard.spec()} was asked for" in text  # what it holds, what was asked
    clean = train_or_load(standard, MODEL, CFG, cache=False, progress=False)
    assert not same_weights(on_unit.model, clean.model)  # resuming the other net would show
    assert same_weights(result.model, clean.model) and len(result.history) == CFG.epochs
    assert torch.load(folder / "final.pt", weights_only=True)["data_spec"] == standard.spec()
    assert train_or_load(standard, MODEL, CFG, progress=False).from_cache


def test_a_final_net_without_its_data_spec_is_set_aside():
    data = synthetic("unit")
    first = train_or_load(data, MODEL, CFG, progress=False)
    final = store.entry_dir(data, MODEL, CFG) / "final.pt"
    saved = torch.load(final, weights_only=True)
    del saved["data_spec"]
    torch.save(saved, final)
    with pytest.warns(CacheWarning) as caught:
        again = train_or_load(data, MODEL, CFG, progress=False)
    text = one_warning(caught)
    assert f"{final} does not record everything that determines its net (no data_spec where {data.spec()} " \
           f"was asked for); moved it to {final}.corrupt" in text
    assert not again.from_cache and same_weights(again.model, first.model)
    assert train_or_load(data, MODEL, CFG, progress=False).from_cache


@pytest.mark.parametrize("key", ["data_spec", "model_config", "train_config", "adaptive"])
def test_a_checkpoint_missing_a_setting_is_set_aside_not_resumed(tmp_path, key):
    data = synthetic("unit")
    ckpt = tmp_path / "run.pt"

    def interrupt(record):
        if record.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(DenseResNet(MODEL, seed=0), data, CFG, checkpoint=ckpt, progress=False, callback=interrupt)
    saved = torch.load(ckpt, weights_only=True)
    assert len(saved["history"]) == 2 and saved["data_spec"] == data.spec()
    del saved[key]
    torch.save(saved, ckpt)
    epochs = []
    with pytest.warns(CacheWarning) as caught:
        resumed = fit(DenseResNet(MODEL, seed=0), data, CFG, checkpoint=ckpt, progress=False,
                      callback=lambda r: epochs.append(r.epoch))
    assert f"run.pt does not record everything that determines its net (no {key} where" in one_warning(caught)
    assert epochs == [1, 2, 3]  # started over, not resumed
    assert same_weights(resumed.model, fit(DenseResNet(MODEL, seed=0), data, CFG, progress=False).model)


def test_a_file_without_its_data_spec_is_set_aside_even_where_no_settings_are_asked_for(tmp_path):
    data = synthetic("unit")
    path = tmp_path / "final.pt"
    fit(DenseResNet(MODEL, seed=0), data, CFG, checkpoint=path, progress=False)
    saved = torch.load(path, weights_only=True)
    torch.save({k: v for k, v in saved.items() if k != "data_spec"}, path)
    with pytest.warns(CacheWarning, match=r"final.pt does not record everything that determines its net "
                                          r"\(no data_spec\); moved it to"):
        assert store.load(path) is None
    assert (tmp_path / "final.pt.corrupt").exists() and not path.exists()


def test_an_adopted_plain_twin_records_the_data_and_is_refused_on_other_data(monkeypatch):
    from resdyn.lib import parallel
    from resdyn.core.data import DataSpec

    unit, standard = synthetic("unit"), synthetic("standard")
    spec = DataSpec("digits")
    monkeypatch.setitem(parallel._DATASETS, spec, unit)
    plain = parallel.Job(spec, MODEL, CFG)
    never = replace(plain, adaptive=AdaptiveDepthConfig(threshold=0.0))
    parallel.train_many([never], workers=1, progress=False)
    assert parallel.adopt_plain_twin(plain, never)
    final = store.entry_dir(unit, MODEL, CFG) / "final.pt"
    assert store.load(final, expect=store.settings(MODEL, CFG.resolved(), None, unit.spec())) is not None
    with pytest.warns(CacheWarning, match="data_spec"):
        assert store.load(final, expect=store.settings(MODEL, CFG.resolved(), None, standard.spec())) is None


# -- the MNIST-1D arrays ----------------------------------------------------------------------------


@pytest.fixture
def spec(tmp_path):
    return data1d.Mnist1dSpec(num_samples=200, val_size=40, root=str(tmp_path / "data"))


def _damage(path, how: str, spec) -> None:
    good = path.read_bytes()
    if how == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif how == "not a zip":
        path.write_bytes(b"not an npz archive" * 50)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "one array":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    else:
        with np.load(path) as saved:
            arrays = {k: saved[k] for k in saved.files}
        if how == "other values":  # the arguments and the checksum kept, the values not
            arrays["x"] = arrays["x"] + 1
        elif how == "other shapes":
            arrays["x"] = arrays["x"][:, :20]
        elif how == "no checksum":
            del arrays["sha256"]
        with open(path, "wb") as f:
            np.savez(f, **arrays)


@pytest.mark.parametrize("how, why", [
    ("truncated", "could not be read"), ("not a zip", "could not be read"), ("empty", "could not be read"),
    ("one array", "could not be read"), ("other values", "holds other arrays than it was written with"),
    ("other shapes", "holds arrays of other types or shapes"), ("no checksum", "has no checksum of its arrays")])
def test_a_damaged_mnist1d_file_is_set_aside_and_regenerated(spec, how, why):
    clean = data1d.generate(spec)
    data1d.load_mnist1d(spec)
    path = data1d.cache_path(spec)
    _damage(path, how, spec)
    damaged = path.read_bytes()
    with pytest.warns(CacheWarning) as caught:
        again = data1d.arrays(spec)
    text = one_warning(caught)
    assert text.startswith(f"resdyn cache: {path} {why}") and f"moved it to {path}.corrupt" in text
    assert all(np.array_equal(again[k], clean[k]) for k in data1d.ARRAYS)
    assert path.with_name(path.name + ".corrupt").read_bytes() == damaged
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the regenerated file is whole: read without a word
        assert all(np.array_equal(data1d.arrays(spec)[k], clean[k]) for k in data1d.ARRAYS)


def test_a_damaged_mnist1d_file_in_a_folder_that_is_not_writable_stays(spec, monkeypatch, tmp_path):
    import os

    clean = data1d.load_mnist1d(replace(spec, root=str(tmp_path / "elsewhere")))
    data1d.load_mnist1d(spec)
    path = data1d.cache_path(spec)
    path.write_bytes(b"damaged")
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if (p, mode) == (path.parent, os.W_OK)
                        else real(p, mode, **kw))
    with pytest.warns(CacheWarning, match=rf"{re.escape(str(path))} could not be read .*its folder is not writable, "
                                          rf"so the file stays .*make {re.escape(str(path.parent))} writable"):
        got = data1d.load_mnist1d(spec)
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(got, split).x, getattr(clean, split).x)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name] and path.read_bytes() == b"damaged"


# -- the MNIST-1D study's nets ----------------------------------------------------------------------


@pytest.mark.parametrize("how", ["truncated", "garbage", "another job's", "other weights"])
def test_a_damaged_mnist1d_net_is_set_aside_and_retrained_with_a_warning(spec, how):
    job = NetJob("dense", 2, 0, spec, FitConfig(max_epochs=2, patience=5))
    first = fitting.train_job(job)
    path = job.path()
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "garbage":
        path.write_bytes(b"\x00" * 500)
    else:
        saved = torch.load(path, weights_only=True)
        if how == "another job's":
            saved["settings"] = {**saved["settings"], "seed": 1}
        else:
            saved["state"] = {k: v[..., :1] for k, v in saved["state"].items()}
        torch.save(saved, path)
    why = {"another job's": "holds another net than this entry is for"}.get(how, "could not be read")
    with pytest.warns(CacheWarning, match=rf"resdyn cache: {re.escape(str(path))} {why} .*moved it to "
                                          rf"{re.escape(str(path))}\.corrupt"):
        again = fitting.train_job(job)
    assert again.history == first.history and same_weights(again.model, first.model)
    assert path.with_name("final.pt.corrupt").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fitting.train_job(job).history == first.history  # the new file reads


def test_a_file_another_process_set_aside_first_is_no_error(tmp_path, monkeypatch):
    path = tmp_path / "final.pt"
    path.write_bytes(b"damaged")
    real = store.set_aside
    monkeypatch.setattr(store, "set_aside", lambda p: (real(p), real(p)))  # the second rename finds no file
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.load(path) is None
    assert [p.name for p in tmp_path.iterdir()] == ["final.pt.corrupt"]
