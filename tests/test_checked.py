"""resdyn.run.checked: the checked cells of two executed copies of a notebook compared as nbval compares
them (its sanitizers, streams coalesced, images skipped), nothing executed."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from resdyn.run import checked


def _write(folder, name, claims_text, *, other_text="anything", image="AAAA", split=False):
    folder.mkdir(exist_ok=True)
    out = ([new_output("stream", name="stdout", text=t) for t in (claims_text[:5], claims_text[5:])] if split
           else [new_output("stream", name="stdout", text=claims_text)])
    cells = [new_markdown_cell("# title"),
             new_code_cell("print('not checked')", outputs=[new_output("stream", name="stdout", text=other_text)]),
             new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(verdicts)",
                           outputs=out + [new_output("display_data", data={"image/png": image})])]
    for i, c in enumerate(cells):
        c.id = f"cell{i}"
    nbformat.write(new_notebook(cells=cells), folder / name)


def test_equal_when_only_unchecked_cells_decimals_images_or_stream_splits_differ(tmp_path):
    _write(tmp_path / "a", "01_x.ipynb", "error 1.83 %: holds\n", other_text="one")
    _write(tmp_path / "b", "01_x.ipynb", "error 1.79 %: holds\n", other_text="two", image="BBBB", split=True)
    assert checked.compare_checked(tmp_path / "a", tmp_path / "b") == []


def test_carriage_returns_resolve_as_nbval_resolves_them(tmp_path):
    _write(tmp_path / "a", "01_x.ipynb", "epoch 1/9\repoch 9/9\rholds\n")
    _write(tmp_path / "b", "01_x.ipynb", "holds\n")
    assert checked.compare_checked(tmp_path / "a", tmp_path / "b") == []
    cell = nbformat.read(tmp_path / "a" / "01_x.ipynb", as_version=4).cells[2]
    before = [dict(o) for o in cell.outputs]
    checked._flatten(cell.outputs, [])
    assert [dict(o) for o in cell.outputs] == before  # the notebook's outputs are left as they were


def test_a_changed_verdict_is_named_with_its_cell(tmp_path):
    _write(tmp_path / "a", "01_x.ipynb", "error 1.83 %: holds\n")
    _write(tmp_path / "b", "01_x.ipynb", "error 1.83 %: does not\n")
    assert checked.compare_checked(tmp_path / "a", tmp_path / "b") == [
        "01_x.ipynb: checked cell 'cell2', stdout: expected ['error #.# %: holds\\n'], got ['error #.# %: does not\\n']"]


def test_a_missing_notebook_cell_or_match_is_a_difference(tmp_path):
    _write(tmp_path / "a", "01_x.ipynb", "holds\n")
    _write(tmp_path / "a", "02_y.ipynb", "holds\n")
    _write(tmp_path / "b", "01_x.ipynb", "holds\n")
    nb = nbformat.read(tmp_path / "b" / "01_x.ipynb", as_version=4)
    nb.cells[2].id = "renamed"
    nbformat.write(nb, tmp_path / "b" / "01_x.ipynb")
    assert checked.compare_checked(tmp_path / "a", tmp_path / "b") == [
        f"01_x.ipynb: checked cell 'cell2' missing from {tmp_path / 'b' / '01_x.ipynb'}",
        f"02_y.ipynb: missing from {tmp_path / 'b'}"]
    assert checked.compare_checked(tmp_path / "a", tmp_path / "b", pattern="1*.ipynb") == [
        f"no notebook matches '1*.ipynb' in {tmp_path / 'a'}"]


def test_the_committed_executed_notebooks_agree_with_themselves_and_have_checked_cells():
    from resdyn.core import paths

    assert checked.compare_checked(paths.EXECUTED_DIR, paths.EXECUTED_DIR) == []
    nbs = sorted(paths.EXECUTED_DIR.glob("0[0-4]_*.ipynb"))
    assert len(nbs) == 5
    assert all(any(checked.is_checked(c) for c in nbformat.read(p, as_version=4).cells) for p in nbs)


def _sanitized(text: str) -> str:
    """``text`` as nbval compares it under nbval-sanitize.cfg."""
    import re

    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(checked.SANITIZE_FILE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_numbers_measured_to_agree_between_processors_are_compared():
    rho = ("saturation: Spearman rho -0.27 over 49 nets, 95 % bootstrap interval [-0.57, +0.10], contains the rule's "
           "threshold: borderline\n")
    toy = ("Two circles, adaptive depth from 15 layers, threshold 0.01 (separate weights)\n  paper: keeps all 15 layers\n"
           "  ours: depth 2 of 15 (censored), test accuracy 65.4 %\n  controls: criterion before training 7.0e-04 (threshold "
           "0.01)\n")
    dense = ("separate: DenseResNet, 15 layers in 1 stage [15]; accuracy 0.98; the worst single-block lesion: none stands "
             "out (none by 0.02 or more)\n")
    depth = ("MNIST-1D: depth matters for the dense family (15 blocks against 1)\n"
             "  ours: deep minus 1 block: -5.75 [-66.10, +54.60] points\n")
    adaptive = ("MNIST-1D: the adaptive rule (threshold 0.01) keeps the depth the transformer family needs\n"
                "  paper: removes layers 'without significant change'\n  ours: adaptive minus deep: +0.00 [+0.00, +0.00] points\n")
    for line, old, new in [(rho, "-0.57", "-0.58"), (rho, "-0.27", "-0.28"), (toy, "65.4", "65.5"), (toy, "7.0e-04", "7.1e-04"),
                           (dense, "0.98", "0.97"), (depth, "+54.60", "+54.61"), (adaptive, "[+0.00", "[+0.25")]:
        assert _sanitized(line) != _sanitized(line.replace(old, new)), (line, old)
        assert "#.#" not in _sanitized(line).splitlines()[-1]  # the claim's own wording ("threshold 0.01") is masked


def test_the_numbers_that_move_between_processors_are_masked():
    conv = ("conv: ConvResNet1d, 6 layers in 3 stages [2, 2, 2]; accuracy 0.96; the worst single-block lesion: block 3 "
            "(blocks.2), accuracy 0.74\n")
    scores = ("MNIST-1D: the paper's c(t) ranks removable blocks at least as well as the best peer criterion (conv)\n"
              "  ours: paper's score minus relative's: +0.04 [-0.48, +0.57]\n  verdict: holds\n")
    conv_rows = ("MNIST-1D: depth matters for the conv family (15 blocks against 1)\n"
                 "  ours: deep minus 1 block: +6.00 [-6.71, +18.71] points\n  controls: margin 2 points\n")
    paper = ("15-layer net, separate weights: MNIST test error\n  paper: 1.8 %\n  ours: 1.46 %\n  controls: chance: 90 %\n"
             "  verdict: holds\n")
    for line, old, new in [(conv, "0.96", "0.97"), (conv, "block 3 (blocks.2), accuracy 0.74", "none stands out"),
                           (scores, "-0.48", "-0.52"), (conv_rows, "+6.00", "+6.25"), (paper, "1.46", "1.43")]:
        assert _sanitized(line) == _sanitized(line.replace(old, new)), (line, old)
    assert _sanitized(paper.replace("holds", "partly")) != _sanitized(paper)
