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

from resdyn.core import paths
from resdyn.studies import switches
from resdyn.studies.sections import SECTIONS

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
    html_static_path: ["_static"]
    html_css_files: ["resdyn.css"]
    html_js_files: ["resdyn.js"]
    html_show_copyright: false
    myst_heading_anchors: 3
    nb_render_markdown_format: gfm
"""


#: Tables wrap between words to the page (a wide one scrolls inside its own box; a cell splits no word) and
#: figures fit the column, at a desktop's width and a phone's alike; on a phone, code and printed output wrap
#: instead of running off the page.
_CSS = """\
.bd-article table { display: block; max-width: 100%; overflow-x: auto; }
.bd-article table td, .bd-article table th { white-space: normal; word-break: normal; overflow-wrap: break-word;
  min-width: 6em; }
.bd-article table td:first-child, .bd-article table th:first-child { min-width: 14em; }
.bd-article img { max-width: 100%; height: auto; cursor: zoom-in; }
@media (max-width: 600px) { .bd-article table { font-size: 0.78em; }
  .bd-article table td, .bd-article table th { min-width: 3.5em; padding: 0.2em 0.25em; hyphens: auto; }
  .bd-article table td:first-child, .bd-article table th:first-child { min-width: 6.5em; }
  .bd-article div.highlight pre, .bd-article .output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .bd-article p code, .bd-article li code, .bd-article p code span.pre, .bd-article li code span.pre { white-space: normal; word-break: break-all; } }
"""
#: Each figure opens full size on click, in a new tab.
_JS = """\
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".bd-article img").forEach((img) => {
    if (img.closest("a")) return;
    const link = document.createElement("a");
    link.href = img.src; link.target = "_blank"; link.rel = "noopener"; link.title = "open the figure full size";
    img.parentNode.insertBefore(link, img); link.appendChild(img);
  });
});
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
    record = _record(paper)
    for s in SECTIONS:
        nb = paper / "notebooks" / f"{s.notebook}.ipynb"
        if not nb.exists() or s.notebook in chapters.get(s.target, []):
            continue
        book = nbformat.read(nb, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "markdown":
                cell.source = _SOURCE_LINK.sub(r"`\1`", cell.source)
            _for_readers(cell)
        _what_this_shows(book, s, record)
        _provenance_last(book)
        nbformat.write(book, str(src / "paper" / "notebooks" / nb.name))
        chapters.setdefault(s.target, []).append(s.notebook)
    (src / "_config.yml").write_text(_CONFIG)
    (src / "_static").mkdir()
    (src / "_static" / "resdyn.css").write_text(_CSS)
    (src / "_static" / "resdyn.js").write_text(_JS)
    toc = ["format: jb-book", "root: intro", "parts:", "  - caption: \"The report\"", "    chapters:",
           "      - file: paper/REPORT"]
    for target, names in chapters.items():
        toc += [f"  - caption: \"{PARTS.get(target, target)}\"", "    chapters:"]
        toc += [f"      - file: paper/notebooks/{n}" for n in names]
    (src / "_toc.yml").write_text("\n".join(toc) + "\n")
    titles = {n: _title(src / "paper" / "notebooks" / f"{n}.ipynb") for names in chapters.values() for n in names}
    (src / "intro.md").write_text(_intro(chapters, titles, record, figures))
    return src


#: A figure's title by the file stem a notebook saves it under (its image's alt text in the book).
_FIGURE_TITLES = {f.stem: f.title for s in SECTIONS for f in s.figures}


def _for_readers(cell) -> None:
    """A notebook cell as the book shows it: the papermill parameter cells removed (Jupyter Book's
    ``remove-cell`` tag), and each figure output given its title as alt text."""
    tags = cell.metadata.get("tags", [])
    if {"parameters", "injected-parameters"} & set(tags):
        cell.metadata["tags"] = [*tags, "remove-cell"]
    if cell.cell_type != "code":
        return
    stems = [stem for stem in _FIGURE_TITLES if f'"{stem}"' in cell.source]
    if stems and any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
        cell.metadata["mystnb"] = {"image": {"alt": _FIGURE_TITLES[stems[0]], "classes": "resdyn-figure"}}


def _what_this_shows(nb, section, record) -> None:
    """Give an executed notebook without a "What this shows" paragraph (run before it existed) the one its run
    would give, from the record (:func:`resdyn.studies.verdict_text.of_section`)."""
    import nbformat

    from resdyn.studies import verdict_text

    text = None if record is None or any(c.source.startswith("## What this shows") for c in nb.cells) \
        else verdict_text.of_section(section, record)
    if text:
        nb.cells.append(nbformat.v4.new_markdown_cell(f"## What this shows\n\n{text}", id="what-this-shows"))


def _provenance_last(nb) -> None:
    """Move where a run's units ran (cells tagged ``provenance``, or a code cell that shows a ``provenance(...)``
    table, with the heading before it) to the end of the page, after the verdicts and what they show."""
    moved = set()
    for i, c in enumerate(nb.cells):
        if "provenance" in c.metadata.get("tags", []) or (c.cell_type == "code" and ".provenance(" in c.source):
            moved.add(i)
            if i and nb.cells[i - 1].cell_type == "markdown" and nb.cells[i - 1].source.startswith("#"):
                moved.add(i - 1)
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in moved] + [nb.cells[i] for i in sorted(moved)]


def _title(notebook: Path) -> str:
    """A notebook's title: its first markdown heading, without the leading hashes."""
    import nbformat

    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def _intro(chapters: dict[str, list[str]], titles: dict[str, str], record, figures: Path) -> str:
    """The book's index: the answer first (the bottom line, the summary table, which targets are stale, the
    claims-by-regime figure), then the report and the notebooks by title."""
    from resdyn.run import staleness, summary
    from resdyn.studies.markdown import table

    lines = ["# resdyn: what holds of the paper", "",
             "A reproduction of *Compact representations and pruning in residual networks* (Lagzi, NIPS 2018 "
             "submission; longer version arXiv 2101.03009). Each claim is judged in three training regimes over "
             "seeds, against controls; \"met by a control too\" means a control passes the same test.", ""]
    found = summary.bottom_line(record) if record is not None else []
    if found:
        lines += ["## What we found", ""] + [f"- {line}" for line in found] + [""]
    head, rows = summary.headline(record) if record is not None else ([], [])
    if rows:
        lines += [table(head, rows), ""]
    stale = sorted(staleness.stale_code(record)) if record is not None else []
    if stale:
        lines += [f"> The {summary.and_list(stale)} targets' sections were computed by code that has changed since; the "
                  "report's header names the code and the command that refreshes each.", ""]
    if (figures / "claims_by_regime.png").exists():
        lines += ["```{figure} figures/claims_by_regime.png", ":alt: Every claim of the paper in each regime", "",
                  "Every claim of the paper in each regime, over its seeds.", "```", ""]
    lines += ["## Read on", "", "- [The report](paper/REPORT.md): every claim, its rule, its verdict and its numbers."]
    for target, names in chapters.items():
        lines.append(f"- {PARTS.get(target, target)}:")
        lines += [f"  - [{titles.get(n, n)}](paper/notebooks/{n}.ipynb)" for n in names]
    lines += ["", "Nothing here was re-executed to build the book: it shows the committed executed notebooks and the "
              "report generated from `paper/results.json`."]
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
    out = Path(out) if out else switches.build_dir() / "book"
    pages = build(out)
    broken = check_links(pages)
    for b in broken:
        print(f"broken: {b}")
    print(f"book: {pages / 'index.html'} ({len(list(pages.rglob('*.html')))} pages, {len(broken)} broken links)")
    return 1 if broken else 0


#: The README's generated blocks: each sits between its two marker lines, written by ``resdyn book --readme``
#: from the registry and paper/results.json (a test fails when one differs from what the record gives).
GALLERY_START = "<!-- gallery: generated by `resdyn book --readme` from the registry and the record; do not edit -->"
GALLERY_END = "<!-- end of gallery -->"
BOTTOM_START = "<!-- bottom line: generated by `resdyn book --readme` from paper/results.json; do not edit -->"
BOTTOM_END = "<!-- end of bottom line -->"

#: The claims each figure shows, for its caption: (words, verdict keys); a key without a regime
#: suffix that the record judges by regime is read over the regimes' verdicts.
FIGURE_CLAIMS = {
    "fig1a_residual_means": ("class means settle", [f"{c}_{n}" for c in ("mean_layer", "mean_absolute")
                                                     for n in ("separate", "shared")]),
    "fig1b_residual_std": ("spread settles", [f"{c}_{n}" for c in ("std_layer", "std_absolute")
                                              for n in ("separate", "shared")]),
    "fig1c_trajectory_distances": ("closer within classes", ["distance_separate", "distance_shared"]),
    "fig1d_tsne": ("one cluster per class", ["tsne_separate", "tsne_shared"]),
    "adaptive_depth": ("adaptive depth to 5 layers", ["adaptive_shared"]),
    "seeds": ("the paper's test error", ["error_separate", "error_shared"]),
    "toy_circles": ("the toy's adaptive depth", ["toy_separate", "toy_shared"]),
    "mnist1d_depth": ("depth matters", ["depth_matters_conv", "depth_matters_dense", "depth_matters_dense256",
                                        "depth_matters_transformer"]),
    "mnist1d_criteria": ("the paper's criterion ranks as well as the best peer",
                         ["ranks_removable_conv", "ranks_removable_dense", "ranks_removable_dense256",
                          "ranks_removable_transformer"]),
    "mnist1d_adaptive": ("the adaptive rule keeps the needed depth",
                         ["adaptive_keeps_conv", "adaptive_keeps_dense", "adaptive_keeps_dense256",
                          "adaptive_keeps_transformer"]),
}


def figure_caption(record, stem: str) -> str:
    """The verdicts of the claims figure ``stem`` shows, in words ('' for a figure that judges nothing):
    over the regimes where the record judges the claims by regime, else the verdict of each claim."""
    from resdyn.run import summary

    if record is None or stem not in FIGURE_CLAIMS:
        return ""
    words, keys = FIGURE_CLAIMS[stem]
    regimes = summary.regime_verdicts(record)
    if any(k in got for got in regimes.values() for k in keys):
        return summary.group_sentence(words, tuple(keys), regimes) or ""
    found = {v.key.rsplit("_", 1)[1]: v.verdict for v in record.verdicts if v.key in keys}
    return f"{words}: {summary.by_verdict(found)}" if found else ""


def _record(paper: Path = paths.PAPER_DIR):
    """The record in ``paper``/results.json, or None where there is none."""
    from resdyn.run import results

    path = Path(paper) / "results.json"
    return results.load(path) if path.exists() else None


def gallery(columns: int = 2, record=None) -> str:
    """The README's gallery: every registered figure that is committed, linked to its executed notebook
    (which a fresh clone has), captioned with the verdicts of the claims it shows, in the registry's order."""
    record = _record() if record is None else record
    cells = []
    for s in SECTIONS:
        for f in s.figures:
            if not (paths.FIGURES_DIR / f"{f.stem}.png").exists():
                continue
            caption = figure_caption(record, f.stem)
            cells.append(f"[![{f.title}](figures/{f.stem}.png)](paper/notebooks/{s.notebook}.ipynb) **{f.title}** "
                         f"([notebook {s.notebook[:2]}](paper/notebooks/{s.notebook}.ipynb))"
                         + (f": {caption}." if caption else ""))
    rows = ["| " + " | ".join([""] * columns) + " |", "|" + "---|" * columns]
    for i in range(0, len(cells), columns):
        chunk = cells[i:i + columns] + [""] * (columns - len(cells[i:i + columns]))
        rows.append("| " + " | ".join(chunk) + " |")
    return "\n".join([GALLERY_START, *rows, GALLERY_END])


def bottom_line(record=None) -> str:
    """The README's bottom line: :func:`resdyn.run.summary.bottom_line` of the committed record, as a list."""
    from resdyn.run import summary

    record = _record() if record is None else record
    lines = summary.bottom_line(record) if record is not None else []
    return "\n".join([BOTTOM_START, *(f"- {line}" for line in lines), BOTTOM_END])


def readme_blocks(record=None) -> dict[tuple[str, str], str]:
    """Each generated block of the README by its (start, end) markers."""
    record = _record() if record is None else record
    return {(BOTTOM_START, BOTTOM_END): bottom_line(record), (GALLERY_START, GALLERY_END): gallery(record=record)}


def update_readme(path: Path = paths.REPO_ROOT / "README.md") -> Path:
    """Replace each generated block of README.md between its markers; raises ValueError naming the
    file where a marker is missing."""
    from resdyn.lib.writing import write_text

    text = Path(path).read_text()
    for (start, end), block in readme_blocks().items():
        if start not in text or end not in text:
            raise ValueError(f"{path} has no line {start!r} (and its end marker); put the two marker lines where "
                             "the block belongs, then run `resdyn book --readme` again.")
        i, j = text.index(start), text.index(end) + len(end)
        text = text[:i] + block + text[j:]
    return write_text(text, path)
