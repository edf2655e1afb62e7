"""The instructor's cohort view: students × tracker items, score distributions, the tests most fail.

Pure functions over what the gradebook and the submissions folder say; the server face reads those
(`nbcourse.nbgrader.read_grade_table`, `nbcourse.nbgrader.cohort`) and hands them in. Items are judged by
the same rule the learner's sidebar uses (`states.graded_state`), so a cell is green for the
instructor exactly when it is green for the student.

Self, choice and text items are private: they appear only for students who chose to share them.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..nbgrader import GradeTable, NotebookGrade, cells_by_grade_id, nbgrader_meta
from .manifest import Item, Manifest
from .states import graded_state

# Which auto rules the cohort view can judge from the gradebook alone. `opened` and `answered` need
# the student's notebook itself; here they mean "a graded submission exists".
GRADE_RULES = {"cells", "all_cells", "score"}
HISTOGRAM_BINS = 10
# Failure messages are read from at most this many autograded notebooks per test cell: enough to
# group what students hit, bounded so a 500-student cohort answers in seconds, not minutes.
MESSAGE_SAMPLE = 200
SHARED_FILE = "shared-progress.json"
ENTERED_KINDS = {"self", "choice", "text"}


@dataclass
class CohortInputs:
    manifest: Manifest
    students: list[str]
    grades: GradeTable
    # (student, assignment) -> the timestamp of the submission on disk
    on_disk: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    # student -> {item id: value} for the items they chose to share
    shared: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def cohort_items(manifest: Manifest) -> list[Item]:
    """The items a cohort view has columns for: auto items, and the entered items students may share."""
    return [i for i in manifest.iter_items() if i.kind == "auto" or i.kind in ENTERED_KINDS]


# Cells every student without a share or a grade has.
PRIVATE: dict[str, Any] = {"status": "private"}
NOT_GRADED: dict[str, Any] = {"status": "not_graded", "satisfied": False}
# layering: "submitted" is words for the instructor here, not a folder
SUBMITTED: dict[str, Any] = {"status": "graded", "satisfied": True, "detail": "submitted"}


def shared_cell(value: Any) -> dict[str, Any]:
    return {"status": "shared", "value": value, "satisfied": bool(value)}


def graded_cell(spec: Any, grade: NotebookGrade) -> dict[str, Any]:
    """A `score` / `cells` / `all_cells` item's cell for one graded notebook: the learner's own rule."""
    state = graded_state(spec, grade)
    return {k: state[k] for k in ("status", "satisfied", "score", "max_score", "detail") if k in state}


class CellTable:
    """The report's distinct cells; the matrix holds indices into it.

    A cohort has few distinct outcomes per item (a 500-student cohort: ~600 distinct cells of
    ~10^5), so the wire carries each once: 0.6 MB where a cell per student was 8.4 MB.
    """

    def __init__(self) -> None:
        self.cells: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def add(self, cell: dict[str, Any]) -> int:
        try:
            key: Any = tuple(sorted(cell.items()))
            hash(key)
        except TypeError:  # a shared value that is a list or a mapping
            key = json.dumps(cell, sort_keys=True, default=str)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self.cells)
            self.cells.append(cell)
        return index


def _judged_columns(spec: Any, table: GradeTable) -> list[int]:
    """The grade cells an auto item's state depends on (the notebook's tests for `all_cells`)."""
    columns = table.notebook_columns(spec.assignment, spec.notebook)
    if spec.rule == "cells":
        by_id = {table.columns[c].grade_id: c for c in columns}
        return [by_id[g] for g in spec.cells or () if g in by_id]
    if spec.rule == "all_cells":
        return [c for c in columns if table.columns[c].kind == "test"]
    return columns


def auto_item_column(item: Item, table: GradeTable, cells: CellTable) -> Any:
    """The item's cell index for every row of the grade table (numpy int array).

    Students are grouped by what `graded_state` reads of their notebook: for a `score` item its
    total and maximum; for a `cells` / `all_cells` item, which of the judged cells are graded, how
    many pass, their summed score and maximum, and whether one waits for manual grading. Each
    group is then judged once, on one member's own notebook, by the learner's rule itself, so the
    cohort view and the sidebar cannot disagree (tests/test_benchmarks_cohort.py checks every
    student's cell against the learner's reader). A 500-student cohort has ~10^5 grades but a few
    dozen groups per item.
    """
    import numpy as np

    spec = item.auto
    rows = len(table.students)
    out = np.full(rows, cells.add(NOT_GRADED), dtype=np.intp)
    notebook = table.notebook_columns(spec.assignment, spec.notebook)
    if not notebook or not rows:
        return out
    graded = np.flatnonzero(table.present[:, notebook].any(axis=1))
    if not len(graded):
        return out
    if spec.rule not in GRADE_RULES:
        out[graded] = cells.add(SUBMITTED)
        return out
    judged = notebook if spec.rule == "score" else _judged_columns(spec, table)
    where = np.ix_(graded, judged)
    present = table.present[where]
    key = [
        np.where(present, table.score[where], 0.0).sum(axis=1),
        (present * table.max_scores[judged]).sum(axis=1),
    ]
    if spec.rule != "score":
        key += [
            (present & table.full[where]).sum(axis=1),
            (present & table.manual[where]).any(axis=1),
            present,  # which judged cells the grade has (a missing one is named in the detail)
        ]
    first, group = _groups(np.column_stack(key))
    judged_once = [
        cells.add(graded_cell(spec, table.notebook_grade(int(graded[f]), spec.assignment, spec.notebook)))
        for f in first
    ]
    out[graded] = np.array(judged_once, dtype=np.intp)[group]
    return out


def _groups(keys: Any) -> tuple[Any, Any]:
    """Equal rows of `keys`: one member of each group, and each row's group (numpy index arrays).

    A sort of the rows by all their columns (`np.unique(axis=0)` does the same through a slower
    byte-view sort).
    """
    import numpy as np

    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    starts = np.ones(len(keys), dtype=bool)
    starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.empty(len(keys), dtype=np.intp)
    group[order] = np.cumsum(starts) - 1
    return order[starts], group


def matrix(items: list[Item], inputs: CohortInputs, cells: CellTable) -> dict[str, list[int]]:
    """student -> the index in `cells` of their cell for each item, in the items' order."""
    import numpy as np

    table = inputs.grades
    found = [table.row(s) for s in inputs.students]
    rows = np.array([-1 if r is None else r for r in found], dtype=np.intp)
    known = rows >= 0
    sharers = [(at, values) for at, s in enumerate(inputs.students) if (values := inputs.shared.get(s))]
    columns = np.empty((len(inputs.students), len(items)), dtype=np.intp)
    not_graded, private = cells.add(NOT_GRADED), cells.add(PRIVATE)
    for index, item in enumerate(items):
        if item.kind in ENTERED_KINDS:
            column = np.full(len(inputs.students), private, dtype=np.intp)
            for at, values in sharers:
                if item.id in values:
                    column[at] = cells.add(shared_cell(values[item.id]))
        else:
            judged = auto_item_column(item, table, cells)
            column = np.full(len(inputs.students), not_graded, dtype=np.intp)
            column[known] = judged[rows[known]]
        columns[:, index] = column
    return dict(zip(inputs.students, columns.tolist(), strict=True))


def histogram(values: list[float], maximum: float, bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts of `values` in `bins` equal bins over [0, maximum] (the top bin includes the maximum)."""
    counts = [0] * bins
    if maximum <= 0:
        return counts
    for value in values:
        index = min(bins - 1, max(0, math.floor(value / maximum * bins)))
        counts[index] += 1
    return counts


def distributions(manifest: Manifest, table: GradeTable) -> list[dict[str, Any]]:
    """Per assignment: how many students are graded, and their totals' mean, median and histogram."""
    import numpy as np

    out = []
    for assignment in manifest.assignments:
        columns = table.assignment_columns(assignment.id)
        present = table.present[:, columns]
        graded = present.any(axis=1)
        scores = np.where(present, table.score[:, columns], 0.0)[graded]
        totals = [float(t) for t in scores.sum(axis=1)]
        maxima = (present[graded] * table.max_scores[columns]).sum(axis=1)
        maximum = float(maxima.max()) if len(totals) else 0.0
        ordered = sorted(totals)
        median = None if not ordered else (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2
        out.append(
            {
                "assignment": assignment.id,
                "title": assignment.title,
                "graded": len(totals),
                "max_score": maximum,
                "mean": sum(totals) / len(totals) if totals else None,
                "median": median,
                "histogram": histogram(totals, maximum),
            }
        )
    return out


def failing_cells(table: GradeTable, limit: int = 15) -> list[dict[str, Any]]:
    """The autograded test cells most students fail, worst first, with who failed them."""
    import numpy as np

    tests = [i for i, c in enumerate(table.columns) if c.kind == "test"]
    if not tests or not table.students:
        return []
    present = table.present[:, tests]
    failed_mask = present & ~table.full[:, tests]
    graded, failed = present.sum(axis=0), failed_mask.sum(axis=0)

    def where(j: int) -> tuple[str, str, str]:
        column = table.columns[tests[j]]
        return (column.assignment, column.notebook, column.grade_id)

    failing = [j for j in range(len(tests)) if failed[j]]
    ranked = sorted(failing, key=lambda j: (-failed[j] / graded[j], -int(failed[j]), where(j)))[:limit]
    return [
        {
            "assignment": where(j)[0],
            "notebook": where(j)[1],
            "grade_id": where(j)[2],
            "failed": int(failed[j]),
            "graded": int(graded[j]),
            "students": [table.students[r] for r in np.flatnonzero(failed_mask[:, j])],
        }
        for j in ranked
    ]


def ungraded(inputs: CohortInputs) -> list[dict[str, Any]]:
    """Submissions on disk that the gradebook has not graded, or graded an older version of."""
    graded = inputs.grades.submitted
    waiting = []
    for (student, assignment), when in sorted(inputs.on_disk.items()):
        if (student, assignment) not in graded:
            reason = "never graded"
        else:
            graded_at = graded[(student, assignment)]
            if when is None or graded_at is None or when <= graded_at:
                continue
            reason = "resubmitted since grading"
        waiting.append(
            {
                "student": student,
                "assignment": assignment,
                # layering: a wire field name, not a folder
                "submitted": when.isoformat(timespec="seconds") if when else None,
                "reason": reason,
            }
        )
    return waiting


def cohort_report(inputs: CohortInputs) -> dict[str, Any]:
    """The whole cohort view (the `Cohort` wire type)."""
    items = cohort_items(inputs.manifest)
    cells = CellTable()
    rows = matrix(items, inputs, cells)
    return {
        "course_id": inputs.manifest.course_id,
        "students": inputs.students,
        "items": [
            {
                "id": i.id,
                "kind": i.kind,
                "text": i.text,
                "assignment": i.auto.assignment if i.auto else None,
                "notebook": i.auto.notebook if i.auto else None,
            }
            for i in items
        ],
        "cells": cells.cells,
        "matrix": rows,
        "distributions": distributions(inputs.manifest, inputs.grades),
        "failing": failing_cells(inputs.grades),
        "ungraded": ungraded(inputs),
        "shared_by": sorted(s for s in inputs.students if inputs.shared.get(s)),
    }


def report_cell(report: Mapping[str, Any], student: str, item_id: str) -> dict[str, Any]:
    """One student's cell for one item, from a report's matrix of indices."""
    index = next(i for i, item in enumerate(report["items"]) if item["id"] == item_id)
    return report["cells"][report["matrix"][student][index]]


def cohort_csv(report: Mapping[str, Any]) -> str:
    """Students × items as CSV: a score, ✓/✗, a shared value, or empty (private / not graded)."""
    out = io.StringIO()
    writer = csv.writer(out)
    items = report["items"]
    writer.writerow(["student", *(i["id"] for i in items)])
    for student in report["students"]:
        row = [student]
        for index in report["matrix"][student]:
            cell = report["cells"][index]
            if cell.get("score") is not None:
                row.append(f"{cell['score']:g}/{cell['max_score']:g}")
            elif cell["status"] == "shared":
                row.append(str(cell["value"]))
            elif cell["status"] in ("graded",):
                row.append("yes" if cell.get("satisfied") else "no")
            else:
                row.append("")
        writer.writerow(row)
    return out.getvalue()


# ---- failure messages, from the autograded notebooks --------------------------------------------


def failure_message(cell: Mapping[str, Any]) -> str | None:
    """What a failed test cell said: `ename: the first line of evalue` (the assertion's message)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            first = (output.get("evalue") or "").strip().splitlines()
            return f"{output.get('ename', 'Error')}: {first[0] if first else ''}".strip()
    return None


class MessageReader:
    """Failure messages of test cells in autograded notebooks, cached by file and modification time."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[int, dict[str, str]]] = {}

    def messages(self, path: Path) -> dict[str, str]:
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return {}
        cached = self._cache.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            found: dict[str, str] = {}
        else:
            found = {
                gid: msg
                for gid, cell in cells_by_grade_id(nb).items()
                if nbgrader_meta(cell).get("grade") and (msg := failure_message(cell)) is not None
            }
        self._cache[path] = (mtime, found)
        return found

    def group(
        self, paths: Iterable[Path], grade_id: str, sample: int = MESSAGE_SAMPLE
    ) -> list[dict[str, Any]]:
        """The messages `grade_id` failed with across `paths`, most common first."""
        counts: Counter[str] = Counter()
        for path in list(paths)[:sample]:
            message = self.messages(path).get(grade_id)
            if message:
                counts[message] += 1
        return [{"message": m, "count": n} for m, n in counts.most_common()]
