"""A learner's grades as every part of the library sees them, whichever source they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

CellKind = Literal["test", "answer", "task"]


@dataclass(frozen=True)
class CellGrade:
    """One grade cell of a submitted notebook."""

    grade_id: str
    score: float
    max_score: float
    kind: CellKind  # test: autograder test cell; answer: manually graded answer; task: task cell
    needs_manual_grade: bool = False

    @property
    def full_marks(self) -> bool:
        return not self.needs_manual_grade and self.score >= self.max_score


@dataclass(frozen=True)
class NotebookGrade:
    """The latest grade of one notebook of one learner."""

    assignment: str
    notebook: str
    score: float
    max_score: float
    cells: Mapping[str, CellGrade]
    submitted: datetime | None = None
    feedback_path: Path | None = None
    # The submitted notebook file itself, when it is on disk (the autograded copy).
    submission_path: Path | None = None


@dataclass(frozen=True)
class GradeColumn:
    """One grade cell of one notebook of the course: a column of a `GradeTable`."""

    assignment: str
    notebook: str
    grade_id: str
    max_score: float
    kind: CellKind


@dataclass(frozen=True)
class GradeTable:
    """Every grade of a cohort at once, as arrays: one row per student, one column per grade cell.

    A whole-cohort view judges each column for all students in one array operation; objects per
    grade (`NotebookGrade`) cost ~1 µs each, and a 500-student cohort has ~10^5 grades.
    `notebook_grade` gives one student's notebook as the learner's reader would.
    """

    students: list[str]  # row order (sorted)
    columns: list[GradeColumn]
    score: Any  # numpy float array (students x columns); NaN where the student has no grade
    manual: Any  # numpy bool array: the grade still waits for manual grading
    # (student, assignment) -> the submission timestamp that was graded
    submitted: Mapping[tuple[str, str], datetime | None] = field(default_factory=dict)

    @cached_property
    def present(self) -> Any:
        """Where a grade exists (numpy bool array, students x columns)."""
        import numpy as np

        return ~np.isnan(self.score)

    @cached_property
    def full(self) -> Any:
        """`CellGrade.full_marks` of every grade at once: graded automatically, at its maximum."""
        return ~self.manual & (self.score >= self.max_scores)

    @cached_property
    def max_scores(self) -> Any:
        import numpy as np

        return np.array([c.max_score for c in self.columns], dtype=float)

    @cached_property
    def _by_notebook(self) -> dict[tuple[str, str], list[int]]:
        found: dict[tuple[str, str], list[int]] = {}
        for index, column in enumerate(self.columns):
            found.setdefault((column.assignment, column.notebook), []).append(index)
        return found

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {student: row for row, student in enumerate(self.students)}

    def row(self, student: str) -> int | None:
        return self._rows.get(student)

    def notebook_columns(self, assignment: str, notebook: str) -> list[int]:
        return self._by_notebook.get((assignment, notebook), [])

    def assignment_columns(self, assignment: str) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.assignment == assignment]

    def notebook_grade(self, row: int, assignment: str, notebook: str) -> NotebookGrade | None:
        """The student's graded notebook (None when it has no grade), as `read_grades` gives it."""
        columns = self.notebook_columns(assignment, notebook)
        # one row slice each, as Python values (indexing numpy per cell costs more than the cell)
        present = self.present[row, columns].tolist()
        scores = self.score[row, columns].tolist()
        manual = self.manual[row, columns].tolist()
        cells: dict[str, CellGrade] = {}
        for index, has, score, waits in zip(columns, present, scores, manual, strict=True):
            if has:
                column = self.columns[index]
                cells[column.grade_id] = CellGrade(
                    column.grade_id, score, column.max_score, column.kind, waits
                )
        if not cells:
            return None
        return NotebookGrade(
            assignment=assignment,
            notebook=notebook,
            score=sum(c.score for c in cells.values()),
            max_score=sum(c.max_score for c in cells.values()),
            cells=cells,
            submitted=self.submitted.get((self.students[row], assignment)),
        )


def empty_grade_table() -> GradeTable:
    """The table of a course with no gradebook yet."""
    import numpy as np

    return GradeTable(students=[], columns=[], score=np.empty((0, 0)), manual=np.empty((0, 0), dtype=bool))
