"""Which committed sections were computed by code that has changed since: a record says so until re-run.

Each target's run in the record names the commit it ran at (``runs[target].identity["commit"]``).
The code a target's sections depend on is its notebooks' code cells and the package modules those
notebooks and its section modules import, followed through every import of the package
(:func:`code_files`, from grimp's import graph). A target is stale when any of those files differs in
its code between that commit and the working tree: Python files are compared as syntax trees with their
docstrings removed, so a change of wording, comments or layout does not count; notebooks by their code
cells. The report's header and ``resdyn report`` list stale targets with the ``make`` target that
refreshes them.

    stale_code(record)  # {"study": ["resdyn/lib/zoo.py", "resdyn/studies/sections/trace.py", ...], ...}
"""
from __future__ import annotations

import ast
import json
import subprocess
from functools import lru_cache
from pathlib import Path

from resdyn.core import paths
from resdyn.studies import sections

#: How to refresh each target's sections.
MAKE_TARGET = {"paper": "make reproduce", "seeds": "make seeds", "study": "make study", "criteria": "make criteria",
               "regimes": "make units && make regimes"}


@lru_cache(maxsize=1)
def _graph():
    import grimp

    return grimp.build_graph("resdyn")


def _module_file(module: str) -> str:
    """``resdyn.studies.sections.trace`` -> ``resdyn/studies/sections/trace.py`` (``__init__.py`` for a package)."""
    path = Path(*module.split("."))
    return (path / "__init__.py").as_posix() if (paths.REPO_ROOT / path).is_dir() else path.with_suffix(".py").as_posix()


def _notebook_imports(notebook: Path) -> set[str]:
    """The package modules a notebook's code cells import."""
    found = set()
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:  # a cell magic: nothing to follow
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "resdyn":
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.split(".")[0] == "resdyn")
    return found


def code_files(target: str) -> list[str]:
    """The repository paths whose code determines ``target``'s sections: its notebooks and every package
    module they or its section modules import, directly or through other modules, sorted."""
    graph = _graph()
    entries = sections.of_target(target)
    notebooks = [paths.NOTEBOOKS_DIR / f"{s.notebook}.ipynb" for s in entries]
    roots = {s.record.__module__ for s in entries}
    for nb in notebooks:
        roots |= _notebook_imports(nb)
    roots = {m for m in roots if m in graph.modules}
    modules = set(roots)
    for m in roots:
        modules |= graph.find_upstream_modules(m)
    files = {_module_file(m) for m in modules}
    files |= {nb.relative_to(paths.REPO_ROOT).as_posix() for nb in notebooks}
    return sorted(files)


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return tree


def code_of(path: str, text: str | None) -> str | None:
    """What counts as the code of file ``path`` with contents ``text`` (None: no such file): a Python
    file's syntax tree without docstrings, a notebook's code cells, any other file as it is."""
    if text is None:
        return None
    if path.endswith(".py"):
        try:
            return ast.dump(_strip_docstrings(ast.parse(text)))
        except SyntaxError:
            return text
    if path.endswith(".ipynb"):
        try:
            cells = json.loads(text)["cells"]
        except (ValueError, KeyError):
            return text
        return json.dumps(["".join(c["source"]) for c in cells if c["cell_type"] == "code"])
    return text


def git_show(commit: str, path: str) -> str | None:
    """The contents of ``path`` at ``commit`` (None where the file did not exist there). Raises
    LookupError where the commit is not in this checkout's history (or there is no git)."""
    try:
        done = subprocess.run(["git", "-C", str(paths.REPO_ROOT), "show", f"{commit}:{path}"], capture_output=True,
                              text=True)
    except OSError as exc:
        raise LookupError(f"git is not available ({exc})") from None
    if done.returncode == 0:
        return done.stdout
    known = subprocess.run(["git", "-C", str(paths.REPO_ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:
        raise LookupError(f"commit {commit[:12]} is not in this checkout's history")
    return None


def git_differs(commit: str, files) -> list[str]:
    """The files among ``files`` whose text differs between ``commit`` and the working tree (one git call;
    LookupError as :func:`git_show`)."""
    try:
        done = subprocess.run(["git", "-C", str(paths.REPO_ROOT), "diff", "--name-only", "--no-renames", commit, "--",
                               *files], capture_output=True, text=True)
    except OSError as exc:
        raise LookupError(f"git is not available ({exc})") from None
    if done.returncode != 0:
        raise LookupError(f"commit {commit[:12]} is not in this checkout's history")
    listed = set(done.stdout.split())
    return [f for f in files if f in listed or not (paths.REPO_ROOT / f).exists()]


def changed_since(commit: str, files, *, show=git_show, differs=git_differs) -> list[str]:
    """The files among ``files`` whose code (:func:`code_of`) differs between ``commit`` and the working
    tree. ``differs(commit, files)`` narrows them to those whose text differs (:func:`git_differs`);
    ``show(commit, path)`` reads a file at a commit (:func:`git_show`)."""
    changed = []
    for path in differs(commit, list(files)):
        now = paths.REPO_ROOT / path
        current = now.read_text() if now.exists() else None
        if code_of(path, show(commit, path)) != code_of(path, current):
            changed.append(path)
    return changed


def stale_code(record, *, show=git_show, differs=git_differs) -> dict[str, list[str] | None]:
    """Each target of ``record`` whose code changed since its run: target -> the changed files, or None
    where that cannot be told (no commit recorded, or a history without it). Targets whose code is
    unchanged are left out."""
    out: dict[str, list[str] | None] = {}
    for target, run in record.runs.items():
        commit = (run.identity.get("commit") or "").removesuffix("+dirty")
        if target not in sections.TARGETS:
            continue
        if not commit:
            out[target] = None
            continue
        try:
            changed = changed_since(commit, code_files(target), show=show, differs=differs)
        except LookupError:
            out[target] = None
            continue
        if changed:
            out[target] = changed
    return out


def describe(stale: dict[str, list[str] | None], *, most: int = 4) -> list[str]:
    """One sentence per stale target, naming what changed and the command that refreshes it."""
    lines = []
    for target, files in stale.items():
        if files is None:
            lines.append(f"the {target} target's sections cannot be traced to code in this checkout (its commit is "
                         f"not in the history); re-run `{MAKE_TARGET.get(target, 'its target')}` to be sure.")
            continue
        shown = ", ".join(f"`{f}`" for f in files[:most]) + (f" and {len(files) - most} more" if len(files) > most else "")
        lines.append(f"the {target} target's sections were computed before code they depend on changed ({shown}); "
                     f"re-run `{MAKE_TARGET.get(target, 'its target')}`.")
    return lines
