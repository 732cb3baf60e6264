import shutil
from pathlib import Path

import pytest
import torch

from resdyn.core.data import DataError, balanced_subset, load_dataset



def test_digits_is_embedded_scaled_and_split(digits):
    assert digits.n_features == 64 and digits.n_classes == 10 and digits.image_shape == (8, 8)
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1000, 297, 500)
    assert digits.train.x.dtype == torch.float32 and digits.train.y.dtype == torch.int64
    assert digits.train.x.min() == 0.0 and digits.train.x.max() == 1.0  # the paper's [0, 1]


def test_other_scalings(digits):
    std = load_dataset("digits", scaling="standard")
    assert abs(std.train.x.mean().item()) < 1e-5 and abs(std.train.x.std().item() - 1) < 1e-5
    centered = load_dataset("digits", scaling="centered")
    assert torch.equal(centered.test.x, digits.test.x - 0.5)


def test_balanced_subset_is_balanced_seeded_and_ordered(digits):
    a = balanced_subset(digits.test, 20, seed=1)
    b = balanced_subset(digits.test, 20, seed=1)
    c = balanced_subset(digits.test, 20, seed=2)
    assert torch.equal(torch.bincount(a.y), torch.full((10,), 20))
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert torch.equal(a.y, torch.arange(10).repeat_interleave(20))  # ordered by class


def test_n_per_class_larger_than_class(digits):
    smallest = int(torch.bincount(digits.test.y).min())
    with pytest.raises(ValueError, match=rf"n_per_class=1000 is larger than class \d+.*n_per_class <= {smallest}"):
        balanced_subset(digits.test, 1000)
    with pytest.raises(ValueError, match="n_per_class must be a positive integer, got 0"):
        balanced_subset(digits.test, 0)


def test_unknown_dataset_and_scaling():
    with pytest.raises(ValueError, match=r'Invalid dataset name "cifar". Must be one of'):
        load_dataset("cifar")
    with pytest.raises(ValueError, match=r'Invalid scaling "z". Must be one of'):
        load_dataset("digits", scaling="z")


def test_missing_root_names_root_and_fix(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        load_dataset("mnist", root=root, download=False)
    msg = str(err.value)
    assert str(root) in msg and "RESDYN_DATA" in msg and "train-images-idx3-ubyte" in msg


def test_data_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RESDYN_DATA", str(tmp_path / "env-root"))
    with pytest.raises(DataError, match="env-root"):
        load_dataset("mnist", download=False)


@pytest.fixture
def mnist_copy(tmp_path, mnist_root):
    raw = tmp_path / "MNIST" / "raw"
    shutil.copytree(mnist_root / "MNIST" / "raw", raw)
    for f in raw.iterdir():
        f.chmod(0o644)
    return tmp_path


def test_truncated_file_gives_clear_error(mnist_copy):
    f = mnist_copy / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    f.write_bytes(f.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"Corrupt MNIST file .*t10k-labels-idx1-ubyte: 5000 bytes, expected 10008"):
        load_dataset("mnist", root=mnist_copy, download=False)


def test_corrupt_bytes_give_clear_error(mnist_copy):
    f = mnist_copy / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    data = bytearray(f.read_bytes())
    data[100] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"Corrupt MNIST file .*SHA-256"):
        load_dataset("mnist", root=mnist_copy, download=False)


def test_real_mnist_loads_in_unit_range(mnist_copy):
    data = load_dataset("mnist", root=mnist_copy)
    assert (len(data.train), len(data.val), len(data.test), data.n_features) == (50000, 10000, 10000, 784)
    assert data.train.x.min() == 0.0 and data.train.x.max() == 1.0
    assert torch.equal(torch.bincount(data.test.y)[:3], torch.tensor([980, 1135, 1032]))


def test_failed_download_names_root_cause_and_fix(tmp_path, monkeypatch):
    import resdyn.core.data

    def offline(root):
        raise OSError("Name or service not known")

    monkeypatch.setattr(resdyn.core.data, "_try_download", offline)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", root=tmp_path)
    msg = str(err.value)
    assert "download failed (OSError: Name or service not known)" in msg
    assert str(tmp_path) in msg and "RESDYN_DATA" in msg


def test_package_and_data_agree_on_the_mnist_file_names():
    from resdyn.core import paths
    from resdyn.core.data import MNIST_FILES

    assert tuple(MNIST_FILES) == paths.MNIST_RAW_FILES


def test_a_missing_data_root_is_not_created(tmp_path):
    root = tmp_path / "no" / "such" / "folder"
    with pytest.raises(DataError, match="does not exist, and resdyn creates no folder"):
        load_dataset("mnist", root=root)
    assert not (tmp_path / "no").exists()


def _failing_mirror(url, download_root, filename, md5):
    """torchvision's download of one file, cut off midway: a partial .gz in its folder, then its error."""
    from urllib.error import URLError

    (Path(download_root) / filename).write_bytes(b"\x1f\x8b partial")
    raise URLError("Name or service not known")


@pytest.mark.parametrize("present", [0, 3])
def test_a_failed_download_creates_nothing_under_the_root(tmp_path, monkeypatch, present):
    """An empty root, or one with 3 of the 4 files: torchvision's download would make MNIST/raw/ and
    leave partial files in it; the root is left as it was, and the error names it and the missing files."""
    import torchvision.datasets.mnist

    from resdyn.core.data import MNIST_FILES, check_mnist

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", _failing_mirror)
    root = tmp_path / "data"
    root.mkdir()
    for name in list(MNIST_FILES)[1:present + 1]:
        (root / "MNIST" / "raw").mkdir(parents=True, exist_ok=True)
        (root / "MNIST" / "raw" / name).write_bytes(b"not checked")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(DataError) as err:
        check_mnist(root)
    msg = str(err.value)
    assert f"MNIST not found under data root {root}" in msg and "Name or service not known" in msg
    assert f"missing: {', '.join(list(MNIST_FILES)[:1] + list(MNIST_FILES)[present + 1:])})" in msg
    assert "\n" not in msg and "Fix:" in msg
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_download_moves_only_the_missing_files_into_the_root(tmp_path, monkeypatch, mnist_root):
    import torchvision.datasets.mnist

    from resdyn.core.data import check_mnist

    def mirror(url, download_root, filename, md5):  # torchvision's download, served from the local copy
        shutil.copy(mnist_root / "MNIST" / "raw" / filename.removesuffix(".gz"), download_root)

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", mirror)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(mnist_root / "MNIST" / "raw" / name, raw)
    kept = (raw / "t10k-labels-idx1-ubyte").stat().st_ino
    assert check_mnist(tmp_path, verify=True) == tmp_path
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["MNIST", "raw", "t10k-images-idx3-ubyte",
                                                           "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
                                                           "train-labels-idx1-ubyte"]
    assert (raw / "t10k-labels-idx1-ubyte").stat().st_ino == kept  # the files it had are left as they were
