"""The nbgrader gradebook: reading a student's grades, and knowing whether it can grade yet.

Reads go through nbgrader's own ORM classes (`nbgrader.api`), so the schema is nbgrader's, not a
copy of it. Only `read_student_grades` and `gradebook_up_to_date` open the database; both end
their transaction before returning, because an open read would keep nbgrader from writing SQLite.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from .cells import cells_by_grade_id, nbgrader_meta, read_notebook
from .course import NbgraderCourse
from .feedback import as_utc
from .grades import CellGrade, CellKind, NotebookGrade
from .runner import DEFAULT_RUN, RunOptions, generate_assignment


def sqlite_file(db_url: str) -> Path | None:
    """The database file when the gradebook is SQLite, else None."""
    if not db_url:
        return None
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    return Path(url.database or "")


def gradebook_exists(db_url: str) -> bool:
    """False when a SQLite gradebook has no file yet (never let nbgrader create one by looking)."""
    if not db_url:
        return False
    db_file = sqlite_file(db_url)
    return db_file is None or db_file.is_file()


def open_gradebook(db_url: str) -> Any:
    """An `nbgrader.api.Gradebook` (opening one builds an engine and inspects the schema: reuse it)."""
    from nbgrader.api import Gradebook  # slow import; only once a database exists

    return Gradebook(db_url)


def read_student_grades(
    gradebook: Any, course: NbgraderCourse, student: str, assignments: Iterable[str]
) -> dict[tuple[str, str], NotebookGrade] | None:
    """Every graded notebook of `student` in `assignments`; None when the gradebook lacks the student."""
    from nbgrader.api import Student

    session = gradebook.db
    try:
        if session.get(Student, student) is None:
            return None
    finally:
        session.rollback()
    return read_grades(gradebook, course, assignments, student=student).get(student, {})


def read_grades(
    gradebook: Any,
    course: NbgraderCourse,
    assignments: Iterable[str],
    *,
    student: str | None = None,
    with_paths: bool = True,
) -> dict[str, dict[tuple[str, str], NotebookGrade]]:
    """Every graded notebook in `assignments`, by student (one student, or the whole cohort).

    Two statements whatever the number of students (walking the ORM objects instead costs a query
    per grade: ~0.4 s for one learner's full course, minutes for a cohort). `with_paths` looks up
    each notebook's feedback page and autograded copy on disk; a cohort summary skips that.
    """
    from nbgrader.api import (
        Assignment,
        BaseCell,
        Grade,
        Notebook,
        SolutionCell,
        SubmittedAssignment,
        SubmittedNotebook,
    )

    wanted = list(assignments)
    session = gradebook.db
    try:
        query = (
            session.query(
                SubmittedAssignment.student_id, Assignment.name, Notebook.name, BaseCell.name, Grade.score,
                Grade.max_score, Grade.needs_manual_grade, Grade.cell_type, SubmittedAssignment.timestamp,
            )
            .select_from(Grade)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .filter(Assignment.name.in_(wanted))
        )  # fmt: skip
        if student is not None:
            query = query.filter(SubmittedAssignment.student_id == student)
        rows = query.all()
        solutions = set(
            session.query(Assignment.name, Notebook.name, SolutionCell.name)
            .select_from(SolutionCell)
            .join(Notebook, SolutionCell.notebook_id == Notebook.id)
            .join(Assignment, Notebook.assignment_id == Assignment.id)
            .filter(Assignment.name.in_(wanted))
            .all()
        )
    finally:
        # End the read transaction: an open one would keep nbgrader from writing SQLite.
        session.rollback()

    cells: dict[tuple[str, str, str], dict[str, CellGrade]] = {}
    submitted: dict[tuple[str, str], datetime | None] = {}
    for who, assignment, notebook, gid, score, max_score, manual, cell_type, when in rows:
        if (assignment, notebook, gid) in solutions:
            kind: CellKind = "answer"
        elif cell_type == "markdown":
            kind = "task"
        else:
            kind = "test"
        cells.setdefault((who, assignment, notebook), {})[gid] = CellGrade(
            grade_id=gid,
            score=float(score or 0.0),
            max_score=float(max_score or 0.0),
            kind=kind,
            needs_manual_grade=bool(manual),
        )
        submitted[(who, assignment)] = as_utc(when)

    found: dict[str, dict[tuple[str, str], NotebookGrade]] = {}
    for (who, assignment, name), graded in cells.items():
        feedback = autograded = None
        if with_paths:
            feedback = course.feedback_dir(who, assignment) / f"{name}.html"
            autograded = course.autograded_dir(who, assignment) / f"{name}.ipynb"
        found.setdefault(who, {})[(assignment, name)] = NotebookGrade(
            assignment=assignment,
            notebook=name,
            # As nbgrader's SubmittedNotebook.score / max_score: sums over the grade cells.
            score=sum(c.score for c in graded.values()),
            max_score=sum(c.max_score for c in graded.values()),
            cells=graded,
            submitted=submitted.get((who, assignment)),
            feedback_path=feedback if feedback is not None and feedback.is_file() else None,
            submission_path=autograded if autograded is not None and autograded.is_file() else None,
        )
    return found


def gradebook_up_to_date(
    course: NbgraderCourse, db_url: str, assignment: str, notebooks: Sequence[str]
) -> bool:
    """The gradebook knows the assignment, every notebook, and the source's current tests.

    nbgrader grades with the test cells it recorded at generate_assignment time, so after a course
    update (a fixed hidden test) the gradebook must learn the new source first. Test and locked
    cells are compared by nbgrader's own checksum; solution cells are recorded as their release
    stubs, so for those only their presence is compared.
    """
    from nbgrader.api import MissingEntry
    from nbgrader.utils import compute_checksum

    if not gradebook_exists(db_url):
        return False
    source_dir = course.source_dir(assignment)
    with open_gradebook(db_url) as gb:
        try:
            recorded = {nb.name: nb for nb in gb.find_assignment(assignment).notebooks}
        except MissingEntry:
            return False
        for name in notebooks:
            if name not in recorded:
                return False
            source = read_notebook(source_dir / f"{name}.ipynb")
            if source is None:
                continue  # no source on this machine: the gradebook's record is all there is
            checksums = {cell.name: cell.checksum for cell in recorded[name].source_cells}
            for gid, cell in cells_by_grade_id(source).items():
                if gid not in checksums:
                    return False
                if not nbgrader_meta(cell).get("solution") and compute_checksum(cell) != checksums[gid]:
                    return False
    return True


class MissingSource(FileNotFoundError):
    """The assignment's source (with its tests) is not on this machine."""


def record_assignment(course: NbgraderCourse, assignment: str, options: RunOptions = DEFAULT_RUN) -> None:
    """Record the assignment's current source in the gradebook (`generate_assignment`).

    Its release output goes to a scratch folder, so the course's committed release is never
    rewritten by grading.
    """
    source = course.source_dir(assignment)
    if not source.is_dir():
        raise MissingSource(
            f"cannot check {assignment}: its source folder {source} (with the tests) is "
            "missing, so the gradebook cannot learn how to grade it"
        )
    with tempfile.TemporaryDirectory(prefix="nbcourse-release-") as scratch:
        generate_assignment(course, assignment, release_root=Path(scratch), options=options)
