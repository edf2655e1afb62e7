"""The instructor's cohort view: students × tracker items, score distributions, the tests most fail.

Pure functions over what the gradebook and the submissions folder say; the server face reads those
(`nbcourse.nbgrader.read_grades`, `nbcourse.nbgrader.cohort`) and hands them in. Items are judged by
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

from ..nbgrader import NotebookGrade, cells_by_grade_id, nbgrader_meta
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
    grades: Mapping[str, Mapping[tuple[str, str], NotebookGrade]]
    # (student, assignment) -> the timestamp of the submission on disk / the one that was graded
    on_disk: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    graded: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)
    # student -> {item id: value} for the items they chose to share
    shared: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def cohort_items(manifest: Manifest) -> list[Item]:
    """The items a cohort view has columns for: auto items, and the entered items students may share."""
    return [i for i in manifest.iter_items() if i.kind == "auto" or i.kind in ENTERED_KINDS]


def item_cell(item: Item, grades: Mapping[tuple[str, str], NotebookGrade], shared: Mapping[str, Any]) -> dict:
    """One cell of the students × items table."""
    if item.kind in ENTERED_KINDS:
        if item.id not in shared:
            return PRIVATE
        value = shared[item.id]
        return {"status": "shared", "value": value, "satisfied": bool(value)}
    spec = item.auto
    grade = grades.get((spec.assignment, spec.notebook))
    if grade is None:
        return NOT_GRADED
    if spec.rule not in GRADE_RULES:
        # layering: "submitted" is words for the instructor here, not a folder
        return {"status": "graded", "satisfied": True, "detail": "submitted"}
    state = graded_state(spec, grade)
    return {k: state[k] for k in ("status", "satisfied", "score", "max_score", "detail") if k in state}


# Cells every student without a share or a grade has: one object each (the report is read-only).
PRIVATE: dict[str, Any] = {"status": "private"}
NOT_GRADED: dict[str, Any] = {"status": "not_graded", "satisfied": False}

CellMemo = dict[tuple[Any, ...], dict[str, Any]]


def _memo_key(item: Item, grade: NotebookGrade) -> tuple[Any, ...]:
    """What of `grade` the item's cell depends on; equal keys, equal cells.

    Cell grades are compared by identity: `read_grades` makes equal grades one object, and every
    object is alive for the whole report, so equal ids mean the very same grade.
    """
    spec = item.auto
    if spec.rule == "score":
        return (item.id, grade.score, grade.max_score)
    if spec.rule == "cells":
        return (item.id, *(id(grade.cells.get(g)) for g in spec.cells or ()))
    if spec.rule == "all_cells":
        return (item.id, *(id(c) for c in grade.cells.values() if c.kind == "test"))
    return (item.id,)


def _student_row(
    items: list[Item], inputs: CohortInputs, student: str, memo: CellMemo
) -> dict[str, dict[str, Any]]:
    """One student's row of the matrix; cells of equal outcomes are shared through `memo`."""
    grades = inputs.grades.get(student, {})
    shared = inputs.shared.get(student, {})
    row: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.kind in ENTERED_KINDS:
            row[item.id] = item_cell(item, grades, shared) if item.id in shared else PRIVATE
            continue
        grade = grades.get((item.auto.assignment, item.auto.notebook))
        if grade is None:
            row[item.id] = NOT_GRADED
            continue
        key = _memo_key(item, grade)
        cell = memo.get(key)
        if cell is None:
            cell = memo[key] = item_cell(item, grades, shared)
        row[item.id] = cell
    return row


def histogram(values: list[float], maximum: float, bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts of `values` in `bins` equal bins over [0, maximum] (the top bin includes the maximum)."""
    counts = [0] * bins
    if maximum <= 0:
        return counts
    for value in values:
        index = min(bins - 1, max(0, math.floor(value / maximum * bins)))
        counts[index] += 1
    return counts


def distributions(manifest: Manifest, inputs: CohortInputs) -> list[dict[str, Any]]:
    # student totals per assignment, in one pass over every student's notebooks
    scores: dict[str, list[float]] = {}
    maxima: dict[str, float] = {}
    for student in inputs.students:
        score: dict[str, float] = {}
        top: dict[str, float] = {}
        for (a, _), g in inputs.grades.get(student, {}).items():
            score[a] = score.get(a, 0.0) + g.score
            top[a] = top.get(a, 0.0) + g.max_score
        for a, total in score.items():
            scores.setdefault(a, []).append(total)
            maxima[a] = max(maxima.get(a, 0.0), top[a])
    out = []
    for assignment in manifest.assignments:
        totals = scores.get(assignment.id, [])
        maximum = maxima.get(assignment.id, 0.0)
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


def failing_cells(inputs: CohortInputs, limit: int = 15) -> list[dict[str, Any]]:
    """The autograded test cells most students fail, worst first, with who failed them."""
    # Counted per notebook, then per cell: no key tuple per grade (a cohort has ~10^5 grades).
    graded_in: dict[tuple[str, str], Counter[str]] = {}
    who_in: dict[tuple[str, str], dict[str, list[str]]] = {}
    for student in inputs.students:
        for where, grade in inputs.grades.get(student, {}).items():
            if where not in graded_in:
                graded_in[where], who_in[where] = Counter(), {}
            counts, names = graded_in[where], who_in[where]
            tests = [(gid, cell) for gid, cell in grade.cells.items() if cell.kind == "test"]
            counts.update(gid for gid, _ in tests)
            for gid, cell in tests:
                if not cell.full_marks:
                    names.setdefault(gid, []).append(student)
    graded = {(*where, gid): n for where, counts in graded_in.items() for gid, n in counts.items()}
    who = {(*where, gid): names for where, by_cell in who_in.items() for gid, names in by_cell.items()}
    failed = {key: len(names) for key, names in who.items()}
    ranked = sorted(failed, key=lambda k: (-failed[k] / graded[k], -failed[k], k))[:limit]
    return [
        {
            "assignment": a,
            "notebook": nb,
            "grade_id": gid,
            "failed": failed[(a, nb, gid)],
            "graded": graded[(a, nb, gid)],
            "students": who[(a, nb, gid)],
        }
        for a, nb, gid in ranked
    ]


def ungraded(inputs: CohortInputs) -> list[dict[str, Any]]:
    """Submissions on disk that the gradebook has not graded, or graded an older version of."""
    waiting = []
    for (student, assignment), when in sorted(inputs.on_disk.items()):
        if (student, assignment) not in inputs.graded:
            reason = "never graded"
        else:
            graded_at = inputs.graded[(student, assignment)]
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
    # One memo for the whole cohort: students whose notebook grades match share their cells.
    memo: CellMemo = {}
    matrix = {student: _student_row(items, inputs, student, memo) for student in inputs.students}
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
        "matrix": matrix,
        "distributions": distributions(inputs.manifest, inputs),
        "failing": failing_cells(inputs),
        "ungraded": ungraded(inputs),
        "shared_by": sorted(s for s in inputs.students if inputs.shared.get(s)),
    }


def cohort_csv(report: Mapping[str, Any]) -> str:
    """Students × items as CSV: a score, ✓/✗, a shared value, or empty (private / not graded)."""
    out = io.StringIO()
    writer = csv.writer(out)
    items = report["items"]
    writer.writerow(["student", *(i["id"] for i in items)])
    for student in report["students"]:
        row = [student]
        for item in items:
            cell = report["matrix"][student][item["id"]]
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
