"""The readers' book: its sources follow the registry, its link check catches broken links, and a real
headless browser shows its pages (skipped, saying why, where Chromium or Jupyter Book is missing)."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest

from resdyn.run import book
from resdyn.core import paths
from resdyn.studies.sections import SECTIONS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_sources_follow_the_registry_and_drop_links_out_of_the_book(tmp_path):
    src = book.write_sources(tmp_path)
    toc = (src / "_toc.yml").read_text()
    executed = [s.notebook for s in SECTIONS if (paths.EXECUTED_DIR / f"{s.notebook}.ipynb").exists()]
    positions = [toc.index(f"paper/notebooks/{n}\n") for n in dict.fromkeys(executed)]
    assert positions == sorted(positions) and executed  # the paper's order: regime, Fig. 1A-1D, ..., studies
    assert toc.index("file: paper/REPORT") < min(positions)  # the report right after the index
    intro = (src / "intro.md").read_text()
    assert intro.index("## What we found") < intro.index("figures/claims_by_regime.png") < intro.index("## Read on")
    # the summary table of the report, right after the bottom line: one row per paper claim and weights
    assert intro.index("## What we found") < intro.index("| claim | paper |") < intro.index("figures/claims_by_regime.png")
    assert intro.count("| 15-layer net, ") == 2
    assert "[01 · Fig. 1A and 1B" in intro  # notebooks by their titles, not by number alone
    for nb in (src / "paper" / "notebooks").glob("*.ipynb"):
        assert "](../../notebooks/" not in nb.read_text()  # the source notebooks are not in the book
    assert (src / "figures").is_dir() and not list((src / "figures").glob("*.pdf"))
    assert "](notebooks/)" not in (src / "paper" / "REPORT.md").read_text()


def test_check_links_reports_broken_links_and_images_only(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">ok</a><a href="missing.html">no</a><img src="img/none.png">'
                                     '<a href="https://example.org">ext</a><a href="#top">in page</a>')
    (tmp_path / "b.html").write_text("<p>b</p>")
    assert book.check_links(tmp_path) == ["a.html -> missing.html", "a.html -> img/none.png"]


needs_book = pytest.mark.skipif(importlib.util.find_spec("jupyter_book") is None,
                                reason="Jupyter Book is not installed (pip install -e '.[book]', or make book)")


@needs_book
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get install chromium); "
                                             "the book's pages are not looked at")
def test_a_headless_browser_shows_the_index_and_a_figure_page(tmp_path):
    html = book.build(tmp_path)
    assert book.check_links(html) == []

    def dom(page):
        done = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                               (html / page).as_uri()], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    index = dom("intro.html")
    assert "what holds of the paper" in index and "What we found" in index and "The report" in index
    for s in SECTIONS:
        if (paths.EXECUTED_DIR / f"{s.notebook}.ipynb").exists():
            assert f"{s.notebook}.html" in index  # every executed notebook is in the navigation
    page = dom("paper/notebooks/01_fig1ab_residual_statistics.html")
    assert page.count("<img") >= 2  # the notebook's figures, inline
    assert "<table" in page and not any(rule in page for rule in ("|---|", "|\u2014|", "|\u2013|"))  # GFM tables, not text


def test_the_readme_gallery_is_the_registry_s():  # every committed figure is in it
    readme = (paths.REPO_ROOT / "README.md").read_text()
    start, end = readme.index(book.GALLERY_START), readme.index(book.GALLERY_END) + len(book.GALLERY_END)
    assert readme[start:end] == book.gallery(), "the README's gallery is stale: paste `resdyn book --gallery`"
    for s in SECTIONS:
        for f in s.figures:
            if (paths.FIGURES_DIR / f"{f.stem}.png").exists():
                assert f"figures/{f.stem}.png" in readme


def test_the_book_hides_parameter_cells_and_gives_figures_their_titles_as_alt_text(tmp_path):
    import nbformat

    src = book.write_sources(tmp_path)
    nb = nbformat.read(src / "paper" / "notebooks" / "01_fig1ab_residual_statistics.ipynb", as_version=4)
    tagged = [c for c in nb.cells if {"parameters", "injected-parameters"} & set(c.metadata.get("tags", []))]
    assert tagged and all("remove-cell" in c.metadata["tags"] for c in tagged)
    alts = [c.metadata["mystnb"]["image"]["alt"] for c in nb.cells if "mystnb" in c.metadata]
    assert alts == ["Fig. 1A", "Fig. 1B"]
    css = (src / "_static" / "resdyn.css").read_text()
    assert "overflow-x: auto" in css and "white-space: pre-wrap" in css.split("@media (max-width: 600px)")[1]
    assert "resdyn.css" in (src / "_config.yml").read_text()
