"""resdyn.checked: the checked cells of two executed copies of a notebook compared as nbval compares
them (its sanitizers, streams coalesced, images skipped), nothing executed."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from resdyn import checked


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
    from resdyn import paths

    assert checked.compare_checked(paths.EXECUTED_DIR, paths.EXECUTED_DIR) == []
    nbs = sorted(paths.EXECUTED_DIR.glob("0[0-4]_*.ipynb"))
    assert len(nbs) == 5
    assert all(any(checked.is_checked(c) for c in nbformat.read(p, as_version=4).cells) for p in nbs)
