"""The readers' book: a static HTML site of the full run (Jupyter Book 1.x, Sphinx), nothing re-executed.

:func:`write_sources` lays out the book's sources from what the targets wrote: the executed notebooks
of ``paper/notebooks/``, ``paper/REPORT.md`` and ``figures/``, with a table of contents that follows
the paper (the registry's sections, in notebook order: regime, Fig. 1A-1D, adaptive depth, seeds, the
studies, the MNIST-1D study). :func:`build` runs ``jupyter-book build`` with warnings as errors;
:func:`check_links` then checks that every internal link and image of the HTML resolves.

    make book        # build/book/_build/html/index.html
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import paths
from .sections import SECTIONS

#: The book's parts, by target, in the order the paper reads.
PARTS = {"paper": "The paper: Fig. 1A-1D and adaptive depth", "seeds": "Over seeds",
         "study": "Studies: mechanism, regimes, depth, toy, precision, any model",
         "criteria": "MNIST-1D: which blocks can go",
         "regimes": "Every claim in each regime, its controls and the mechanism by intervention"}
#: In the book, a link from an executed notebook to its source notebook (not part of the book) is plain text.
_SOURCE_LINK = re.compile(r"\[`(notebooks/[^`]+)`\]\(\.\./\.\./notebooks/[^)]+\)")

_CONFIG = """\
title: "resdyn: residual dynamics and pruning, reproduced"
author: resdyn
only_build_toc_files: true
execute:
  execute_notebooks: "off"
html:
  use_repository_button: false
sphinx:
  config:
    html_show_copyright: false
    myst_heading_anchors: 3
    nb_render_markdown_format: gfm
"""


def write_sources(out: str | Path, *, paper: Path = paths.PAPER_DIR, figures: Path = paths.FIGURES_DIR) -> Path:
    """The book's sources under ``out``/src (replaced): intro, the report, the executed notebooks
    there are, the figures, ``_config.yml`` and ``_toc.yml``. Returns the source folder."""
    import nbformat

    src = Path(out) / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "paper" / "notebooks").mkdir(parents=True)
    shutil.copytree(figures, src / "figures", ignore=shutil.ignore_patterns("*.pdf"))
    report = (paper / "REPORT.md").read_text()  # its link to the notebooks' folder becomes one to the book's contents
    (src / "paper" / "REPORT.md").write_text(report.replace("](notebooks/)", "](../intro.md)"))
    chapters: dict[str, list[str]] = {}
    for s in SECTIONS:
        nb = paper / "notebooks" / f"{s.notebook}.ipynb"
        if not nb.exists() or s.notebook in chapters.get(s.target, []):
            continue
        book = nbformat.read(nb, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "markdown":
                cell.source = _SOURCE_LINK.sub(r"`\1`", cell.source)
        nbformat.write(book, str(src / "paper" / "notebooks" / nb.name))
        chapters.setdefault(s.target, []).append(s.notebook)
    (src / "_config.yml").write_text(_CONFIG)
    toc = ["format: jb-book", "root: intro", "parts:"]
    for target, names in chapters.items():
        toc += [f"  - caption: \"{PARTS.get(target, target)}\"", "    chapters:"]
        toc += [f"      - file: paper/notebooks/{n}" for n in names]
    toc += ["  - caption: \"The report\"", "    chapters:", "      - file: paper/REPORT"]
    (src / "_toc.yml").write_text("\n".join(toc) + "\n")
    (src / "intro.md").write_text(_intro(chapters))
    return src


def _intro(chapters: dict[str, list[str]]) -> str:
    lines = ["# resdyn: the full run", "",
             "A reproduction of *Compact representations and pruning in residual networks* (Lagzi, NIPS 2018 "
             "submission; longer version arXiv 2101.03009): the executed notebooks of the full run, with every figure, "
             "and the report generated from `paper/results.json`. Nothing here was re-executed to build the book.", "",
             "- [The report](paper/REPORT.md): every claim, its rule and its verdict."]
    for target, names in chapters.items():
        lines.append(f"- {PARTS.get(target, target)}: " + ", ".join(f"[{n[:2]}](paper/notebooks/{n}.ipynb)" for n in names))
    return "\n".join(lines) + "\n"


def build(out: str | Path) -> Path:
    """Write the sources and build the HTML with warnings as errors; returns the HTML folder."""
    src = write_sources(out)
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(src), "--path-output", str(out), "-W", "-n",
           "--keep-going"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"jupyter-book build failed (exit {done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return Path(out) / "_build" / "html"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.targets.append(a["href"])
        if tag == "img" and a.get("src"):
            self.targets.append(a["src"])


def check_links(html: str | Path) -> list[str]:
    """Every internal link or image of the built pages that does not resolve: 'page -> target'.
    External links (with a scheme), mailto and in-page anchors are not checked."""
    html = Path(html)
    broken = []
    for page in sorted(html.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        for target in parser.targets:
            url = urlparse(target)
            if url.scheme or target.startswith("#") or not url.path:
                continue
            path = (page.parent / unquote(url.path)).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(html)} -> {target}")
    return broken


def main(out: str | Path | None = None) -> int:
    out = Path(out) if out else paths.build_dir() / "book"
    pages = build(out)
    broken = check_links(pages)
    for b in broken:
        print(f"broken: {b}")
    print(f"book: {pages / 'index.html'} ({len(list(pages.rglob('*.html')))} pages, {len(broken)} broken links)")
    return 1 if broken else 0


#: The README's gallery sits between these two lines (``resdyn book --gallery`` prints it; a test checks it).
GALLERY_START = "<!-- gallery: generated by `resdyn book --gallery` from the registry; do not edit -->"
GALLERY_END = "<!-- end of gallery -->"


def gallery(columns: int = 2) -> str:
    """The README's gallery: every registered figure that is committed, linked to its executed notebook and to
    its page of the book (after ``make book``), in the registry's order."""
    cells = []
    for s in SECTIONS:
        for f in s.figures:
            if not (paths.FIGURES_DIR / f"{f.stem}.png").exists():
                continue
            page = f"build/book/_build/html/paper/notebooks/{s.notebook}.html"
            cells.append(f"[![{f.title}](figures/{f.stem}.png)](paper/notebooks/{s.notebook}.ipynb) **{f.title}** "
                         f"(notebook {s.notebook[:2]}; [book page]({page}))")
    rows = ["| " + " | ".join([""] * columns) + " |", "|" + "---|" * columns]
    for i in range(0, len(cells), columns):
        chunk = cells[i:i + columns] + [""] * (columns - len(cells[i:i + columns]))
        rows.append("| " + " | ".join(chunk) + " |")
    return "\n".join([GALLERY_START, *rows, GALLERY_END])
