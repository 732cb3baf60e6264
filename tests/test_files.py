"""Writes whole or not at all (resdyn.core.files): a failed write leaves the old file and no temporary file."""
import json
import subprocess
import sys

import pytest

from resdyn.core import paths
from resdyn.core.files import atomic_write
from resdyn.lib.writing import read_json, write_json, write_text

REPO = paths.REPO_ROOT


def _left(folder):
    return sorted(p.name for p in folder.iterdir())


def test_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "REPORT.md"
    write_text("old", path)
    write_text("new text", path)
    assert path.read_text() == "new text" and _left(tmp_path) == ["REPORT.md"]
    assert oct(path.stat().st_mode & 0o777) != oct(0o600)  # not the temporary file's private mode


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    write_json({"a": 1}, path)

    def half(tmp):
        tmp.write_text('{"a": ')
        raise KeyboardInterrupt  # Ctrl-C mid-write: passes as it is

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    assert read_json(path) == {"a": 1} and _left(tmp_path) == ["results.json"]


def test_a_writer_s_runtime_error_names_the_file_keeps_the_old_one_and_no_temporary(tmp_path):
    """torch.save reports a failed write as a RuntimeError of its zip writer, which names no file."""
    path = tmp_path / "net.pt"
    write_text("the old net", path)

    def torch_save(tmp):
        tmp.write_bytes(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file data/0")

    with pytest.raises(OSError) as err:
        atomic_write(path, torch_save)
    assert f"could not write {path}: [enforce fail at inline_container.cc:672]" in str(err.value)
    assert "Fix:" in str(err.value) and isinstance(err.value.__cause__, RuntimeError)
    assert path.read_text() == "the old net" and _left(tmp_path) == ["net.pt"]


def test_torch_save_under_a_file_size_limit_names_the_file_and_the_limit(tmp_path):
    """The real torch.save under RLIMIT_FSIZE: its RuntimeError carries no errno; the process's limit
    gives the cause (EFBIG) and the fix."""
    path = tmp_path / "cache" / "net.pt"
    script = f"""
import errno, resource, signal, sys, torch
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
from resdyn.core.store import atomic_save
try:
    atomic_save(torch.zeros(100_000), {str(path)!r})
except OSError as exc:
    print(exc.errno == errno.EFBIG, exc.strerror)
    sys.exit(3)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr
    assert out.stdout.startswith(f"True could not write {path}: the file would pass the process's file-size limit "
                                 "(EFBIG, see ulimit -f)")
    assert "Fix: raise the limit (ulimit -f unlimited)" in out.stdout and _left(path.parent) == []


def test_an_unwritable_folder_names_the_file_not_the_temporary(tmp_path, monkeypatch):
    import errno
    import os
    import tempfile

    folder = tmp_path / "paper"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root, whom chmod does not stop: mkstemp fails as it would for a user

        def refused(dir, prefix, suffix):
            raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, f"{prefix}abc{suffix}"))

        monkeypatch.setattr(tempfile, "mkstemp", refused)
    with pytest.raises(OSError) as err:
        write_text("report", folder / "REPORT.md")
    folder.chmod(0o755)
    assert err.value.errno == errno.EACCES and ".REPORT.md." not in str(err.value)
    assert f"could not write {folder / 'REPORT.md'}: permission denied (EACCES)" in str(err.value)
    assert "Fix: fix the folder's permissions or write elsewhere (--out)" in str(err.value) and _left(folder) == []


def test_a_full_disk_names_the_file_and_keeps_the_old_one(tmp_path):
    """Under a file-size limit (what a full disk looks like to a writer) the write fails with an
    OSError that names the file; the old file is whole and no temporary file is left."""
    path = tmp_path / "REPORT.md"
    write_text("the committed report", path)
    script = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
from resdyn.lib.writing import write_text
try:
    write_text("x" * 100_000, {str(path)!r})
except OSError as exc:
    print(exc)
    sys.exit(3)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
    assert f"could not write {path}" in out.stdout and "previous file" in out.stdout
    assert path.read_text() == "the committed report" and _left(tmp_path) == ["REPORT.md"]


def test_two_writers_use_different_temporary_files(tmp_path):
    seen = []
    atomic_write(tmp_path / "a.txt", lambda tmp: (seen.append(tmp), tmp.write_text("1")))
    atomic_write(tmp_path / "a.txt", lambda tmp: (seen.append(tmp), tmp.write_text("2")))
    assert seen[0] != seen[1] and all(p.parent == tmp_path for p in seen)


def test_damaged_json_names_the_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"a": 1,,}')
    with pytest.raises(ValueError, match=rf"{path} is not valid JSON"):
        read_json(path)
    assert json.loads('{"a": 1}') == {"a": 1}


def test_save_figure_writes_png_and_pdf_whole(tmp_path):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from resdyn.lib.writing import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png, pdf = save_figure(fig, tmp_path / "fig")
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
    old = png.read_bytes()

    class Broken:
        def savefig(self, fname, **kw):
            open(fname, "wb").write(b"\x89PN")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match=f"could not write {png}"):
        save_figure(Broken(), tmp_path / "fig")
    assert png.read_bytes() == old and _left(tmp_path) == ["fig.pdf", "fig.png"]
    plt.close(fig)


def test_a_write_killed_midway_leaves_the_old_file_and_only_an_ignored_temporary(tmp_path):
    """SIGKILL during a large write (what an out-of-memory kill does): the target keeps its old
    content; what is left is the temporary file, whose name .gitignore covers (.*.tmp)."""
    import fnmatch
    import os
    import signal
    import time

    path = tmp_path / "REPORT.md"
    write_text("the committed report", path)
    child = subprocess.Popen([sys.executable, "-c", f"""
from resdyn.core.files import atomic_write
def slow(tmp):
    with open(tmp, "w") as f:
        while True:
            f.write("x" * 100_000)
            f.flush()
atomic_write({str(path)!r}, slow)
"""])
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.stat().st_size > 0 for p in tmp_path.glob(".*.tmp")):
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert path.read_text() == "the committed report"
    left = [p.name for p in tmp_path.iterdir() if p.name != "REPORT.md"]
    assert len(left) == 1 and fnmatch.fnmatch(left[0], ".*.tmp")
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".*.tmp" in ignored
