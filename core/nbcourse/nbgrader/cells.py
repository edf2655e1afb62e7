"""nbgrader's cell metadata: which cells are graded, and how (the one definition of each).

Functions take a cell as nbformat gives it or as plain JSON (`dict`): both answer `.get`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import nbformat

Cell = Mapping[str, Any]

# The markers nbgrader's preprocessors look for (ClearSolutions, ClearHiddenTests, ClearMarkScheme).
SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
MARK_SCHEME_BEGIN = "=== BEGIN MARK SCHEME ==="
MARK_SCHEME_END = "=== END MARK SCHEME ==="
BLOCKS = {SOLUTION_BEGIN: SOLUTION_END, HIDDEN_BEGIN: HIDDEN_END, MARK_SCHEME_BEGIN: MARK_SCHEME_END}
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END, MARK_SCHEME_BEGIN, MARK_SCHEME_END)
PRIVATE_BLOCKS = {HIDDEN_BEGIN: HIDDEN_END, MARK_SCHEME_BEGIN: MARK_SCHEME_END}  # never shown to a student

# Where a line lies, for `region_lines`.
OUTSIDE, OPENS, INSIDE, CLOSES = "outside", "opens", "inside", "closes"


def region_lines(text: str, blocks: Mapping[str, str] = BLOCKS) -> list[tuple[str, str]]:
    """Each line of `text` with where it lies relative to the marked `blocks` (begin -> end).

    The one walker over nbgrader's marked regions: a marker counts wherever it appears in a line,
    as nbgrader's own preprocessors read them.
    """
    out: list[tuple[str, str]] = []
    closing: str | None = None
    for line in text.splitlines():
        if closing is None:
            opening = next((begin for begin in blocks if begin in line), None)
            if opening is None:
                out.append((line, OUTSIDE))
            else:
                closing = blocks[opening]
                out.append((line, OPENS))
        elif closing in line:
            closing = None
            out.append((line, CLOSES))
        else:
            out.append((line, INSIDE))
    return out


def nbgrader_meta(cell: Cell) -> dict[str, Any]:
    """The cell's `metadata.nbgrader` block ({} for a cell nbgrader does not manage)."""
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, Mapping) else {}
    return meta if isinstance(meta, dict) else {}


def grade_id(cell: Cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id") or None


def is_autograded_test(cell: Cell) -> bool:
    """An autograded test cell: a graded code cell that is not itself an answer."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manual_answer(cell: Cell) -> bool:
    """A manually graded answer: graded and a solution cell (code or written)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution"))


def is_task(cell: Cell) -> bool:
    """A manually graded task cell: instructions a human grades, no answer inside."""
    return bool(nbgrader_meta(cell).get("task"))


def is_grade_cell(cell: Cell) -> bool:
    """A cell that carries points: graded cells and manually graded tasks."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and bool(meta.get("grade") or meta.get("task"))


def points(cell: Cell) -> float:
    return float(nbgrader_meta(cell).get("points") or 0)


def cell_text(cell: Cell) -> str:
    """The cell's source as one string (nbformat joins it; raw JSON may hold a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def cells_by_grade_id(nb: Any) -> dict[str, Any]:
    """Cells carrying an nbgrader grade_id, keyed by it, in notebook order."""
    found: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        gid = grade_id(cell)
        if gid:
            found[gid] = cell
    return found


def grade_ids(nb: Any, predicate: Callable[[Cell], bool] = is_autograded_test) -> list[str]:
    """Grade ids of the cells for which `predicate` holds, in notebook order."""
    return [gid for cell in nb.get("cells", []) if predicate(cell) and (gid := grade_id(cell))]


def test_cell_ids(nb: Any) -> list[str]:
    """Autograder test cells' grade ids, in notebook order."""
    return grade_ids(nb, is_autograded_test)


# Not a test, despite the name (pytest collects `test_*` functions from modules it imports).
test_cell_ids.__test__ = False  # type: ignore[attr-defined]


def read_notebook(path: Path) -> Any | None:
    """The notebook at `path` (nbformat v4 node), or None when missing or unreadable."""
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception:  # a half-saved or hand-broken notebook is "no notebook", never a crash
        return None
