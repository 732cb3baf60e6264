"""Publishing a run's record as one unit: results.json, its schema, REPORT.md and the figures.

:func:`publish` writes each new file beside its destination and copies each old one aside (a failure
there changes nothing), then lists them in a journal and renames them into place; a failed rename
puts every old file back, and a kill leaves the journal, from which :func:`recover` completes (or
undoes) the publication when the next run starts. So a reader finds either the old set or the new
one, never a results.json beside another run's report.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from resdyn.run import report, results, staleness
from resdyn.run.failures import RunError
from resdyn.core.files import atomic_write, cause, fix
from resdyn.lib.writing import read_json, write_json, write_text


def publish_record(record, *, paper: Path, figures: Path, journal: Path, staged: Path | None = None,
                   stale: dict | None = None, text: str | None = None) -> None:
    """Publish ``record`` as one unit: REPORT.md (``text``, or rendered from the record with ``stale``),
    results.json and its schema in ``paper``, and the figures in ``staged`` (a run's) in ``figures``."""
    import shutil

    text = report.render(record, report_dir=paper, figures_dir=figures, stale=stale) if text is None else text
    files = {paper / "REPORT.md": lambda tmp: write_text(text, tmp),
             paper / "results.json": lambda tmp: write_json(results.to_dict(record), tmp),
             paper / "results.schema.json": lambda tmp: write_json(results.schema(), tmp)}
    for src in sorted(staged.iterdir()) if staged is not None and staged.is_dir() else []:
        if src.is_file() and not src.name.startswith("."):
            files[figures / src.name] = lambda tmp, src=src: atomic_write(tmp, lambda t: shutil.copyfile(src, t))
    publish(files, journal)


def rerender(results_file: Path, figures: Path | None = None, *, rejudge: bool = False, force: bool = False,
             log=print) -> Path:
    """REPORT.md beside ``results_file`` rendered again from it (with ``rejudge``: its verdicts first given
    by today's rules), published with the record as one unit; says which verdicts changed and which
    targets are stale. Raises ValueError where the new report would have fewer sections than the old
    one, unless ``force``."""
    results_file = Path(results_file)
    record = results.load_whole(results_file, "--results")
    paper = results_file.parent
    line = recover(paper / JOURNAL)
    if line:
        log(line)
    if rejudge:
        before = {v.key: v.verdict for v in record.verdicts}
        record = results.rejudge(record)
        changed = [f"{v.key}: {before.get(v.key, 'missing')} -> {v.verdict}" for v in record.verdicts
                   if before.get(v.key) != v.verdict]
        log(f"{results_file}: {len(changed)} verdicts new or changed under today's rules" + "".join(f"\n  {c}" for c in changed))
    figures = Path(figures) if figures else paper.parent / "figures"
    stale = staleness.stale_code(record)
    for line in staleness.describe(stale):
        log(f"stale: {line}")
    text = report.render(record, report_dir=paper, figures_dir=figures, stale=stale)
    out = paper / "REPORT.md"
    if out.exists() and report.section_count(text) < report.section_count(out.read_text()) and not force:
        raise ValueError(f"the new report of {results_file} has fewer sections than {out}; {out} left as it was. "
                         "Fix: re-run the missing targets, or pass --force to write it anyway.")
    publish_record(record, paper=paper, figures=figures, journal=paper / JOURNAL, text=text)
    return out


#: The journal of a publication by ``resdyn report``, beside the record (a run's is in its scratch folder).
JOURNAL = ".publish.json"


def publish(files: dict, journal: Path) -> None:
    """Replace every file of ``files`` ({destination: write(tmp)}) as one unit: a failure or a kill at
    any moment leaves either every old file or every new one.

    Each new file is written to a temporary file beside its destination, and each old one copied
    aside, in the order of ``files`` (a failure here changes nothing); then ``journal`` lists them,
    and from then on the publication completes: each temporary file replaces its destination by a
    rename. A failed rename puts every old file back; a kill leaves the journal, from which
    :func:`recover` completes the publication at the next start. Raises :class:`RunError` naming the
    file that could not be written or replaced."""
    entries, path = [], None
    try:
        for path, write_new in files.items():
            entries.append(_stage(Path(path), write_new))
        path = journal
        write_json({"state": "forward", "entries": entries}, journal)
    except BaseException as exc:  # nothing is replaced yet
        journal.unlink(missing_ok=True)
        _drop(entries)
        if not isinstance(exc, OSError):
            raise
        code = _errno(exc)
        raise RunError(f"could not write {path} ({cause(code, exc)}), so nothing of this run's record was published and "
                       f"the previous results.json, REPORT.md and figures are left as they were. Fix: {fix(code)}, then "
                       "run again.") from exc
    try:
        for entry in entries:
            path = entry["dst"]
            os.replace(entry["tmp"], entry["dst"])
    except OSError as exc:
        with contextlib.suppress(OSError):
            write_json({"state": "back", "entries": entries}, journal)
        _roll_back(entries)
        journal.unlink(missing_ok=True)
        _drop(entries)
        raise RunError(f"could not replace {path} ({cause(_errno(exc), exc)}), so the previous results.json, REPORT.md "
                       "and figures were put back. Fix: check the file and its folder (is it a folder, or locked?), then "
                       "run again.") from exc
    except BaseException:  # an interrupt past the journal: the publication completes before it goes on
        _roll_forward(entries)
        journal.unlink()
        _drop(entries)
        raise
    journal.unlink()
    _drop(entries)


def recover(journal: Path) -> str | None:
    """Complete the publication that ``journal`` records, one that a killed process left (or undo
    it, where its process was putting the old files back); then a line saying so, or None where
    there is no journal."""
    if not journal.exists():
        return None
    state = read_json(journal)
    entries = state["entries"]
    if state["state"] == "forward":
        _roll_forward(entries)
        done = "completed (its record and figures are in place)"
    else:
        _roll_back(entries)
        done = "undone (the record and figures before it are back)"
    journal.unlink()
    _drop(entries)
    return f"{journal}: a run was stopped while it published its record; the publication is {done}."


def _stage(dst: Path, write_new) -> dict:
    """``dst``'s entry in the journal: its new content in a temporary file beside it, its old
    content (if any) copied to another."""
    import shutil

    entry = {"dst": str(dst), "tmp": _temp_beside(dst), "bak": None}
    try:
        write_new(Path(entry["tmp"]))
        if os.path.lexists(dst):
            entry["bak"] = _temp_beside(dst)
            shutil.copy2(dst, entry["bak"])
    except BaseException:
        _drop([entry])
        raise
    return entry


def _temp_beside(path: Path) -> str:
    """A new empty file beside ``path``, named as :func:`resdyn.core.files.atomic_write` names its own."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return name


def _roll_forward(entries: list[dict]) -> None:
    """Every new file that has not replaced its destination yet does so."""
    for e in entries:
        if os.path.exists(e["tmp"]):
            os.replace(e["tmp"], e["dst"])


def _roll_back(entries: list[dict]) -> None:
    """Every destination that a new file replaced gets its old file back (or is removed, where
    there was none); the new files not yet in place are removed."""
    for e in entries:
        if os.path.exists(e["tmp"]):
            os.unlink(e["tmp"])
        elif e["bak"] is None:
            Path(e["dst"]).unlink(missing_ok=True)
        elif os.path.exists(e["bak"]):
            os.replace(e["bak"], e["dst"])


def _drop(entries: list[dict]) -> None:
    """Remove the temporary files and copies of old files of ``entries`` that are left."""
    for e in entries:
        for name in (e["tmp"], e["bak"]):
            if name is not None:
                Path(name).unlink(missing_ok=True)


def _errno(exc: OSError) -> int | None:
    """The errno of ``exc`` (of the first error, where it was re-raised)."""
    root = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    return root.errno
