"""Metadata mending before grading: what nbgrader would choke on is stripped, what it ignores is left."""

from __future__ import annotations

import nbformat

from nbcourse.grading.repair import repair_cells


def _cell(kind: str, grade_id: str, **flags: bool) -> nbformat.NotebookNode:
    meta = {"grade": False, "solution": False, "locked": False, "task": False, "schema_version": 3}
    meta.update(flags, grade_id=grade_id)
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    return make("x", metadata={"nbgrader": meta})


def test_an_unflagged_cell_the_master_does_not_record_is_left_alone() -> None:
    # nbgrader records only graded, solution, locked and task cells: an unlocked scratch cell
    # with metadata is in no gradebook, and mending it would report a problem that is none.
    nb = nbformat.v4.new_notebook(
        cells=[_cell("markdown", "scratch"), _cell("code", "tests", grade=True, locked=True)]
    )
    assert repair_cells(nb, {"tests"}) == []
    assert nb.cells[0].metadata["nbgrader"]["grade_id"] == "scratch"


def test_an_unknown_graded_cell_and_a_pasted_copy_lose_their_metadata() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            _cell("code", "tests", grade=True, locked=True),
            _cell("code", "tests", grade=True, locked=True),
            _cell("code", "injected", grade=True),
        ]
    )
    repairs = repair_cells(nb, {"tests"})
    assert len(repairs) == 2
    assert "repeats grade_id 'tests'" in repairs[0] and "'injected'" in repairs[1]
    assert "nbgrader" in nb.cells[0].metadata
    assert "nbgrader" not in nb.cells[1].metadata and "nbgrader" not in nb.cells[2].metadata


def test_an_old_schema_version_is_brought_up_to_date() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[_cell("code", "tests", grade=True, locked=True), _cell("markdown", "note")]
    )
    for cell in nb.cells:
        cell.metadata["nbgrader"]["schema_version"] = 1
    assert repair_cells(nb, {"tests"}) == []
    assert [c.metadata["nbgrader"]["schema_version"] for c in nb.cells] == [3, 3]


def test_a_cell_missing_a_flag_is_not_taken_for_an_ordinary_one() -> None:
    cell = _cell("code", "stray")
    del cell.metadata["nbgrader"]["locked"]  # nbgrader's validator would fail on this notebook
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert len(repair_cells(nb, set())) == 1
    assert "nbgrader" not in nb.cells[0].metadata
