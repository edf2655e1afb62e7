"""What nbgrader knows about a whole cohort: its students and the submissions waiting on disk."""

from __future__ import annotations

import glob
from datetime import datetime
from pathlib import Path
from typing import Any

from .course import NbgraderCourse
from .feedback import as_utc, parse_timestamp

# nbgrader writes this beside every submission (`nbgrader collect` / `submit`).
TIMESTAMP_FILE = "timestamp.txt"


def list_students(gradebook: Any) -> list[str]:
    """Every student id the gradebook knows, sorted."""
    from nbgrader.api import Student

    session = gradebook.db
    try:
        return sorted(row[0] for row in session.query(Student.id).all())
    finally:
        session.rollback()  # never leave a read open: nbgrader must be able to write SQLite


def graded_timestamps(gradebook: Any, assignments: list[str]) -> dict[tuple[str, str], datetime | None]:
    """The submission timestamp the gradebook graded, per (student, assignment)."""
    from nbgrader.api import Assignment, SubmittedAssignment

    session = gradebook.db
    try:
        rows = (
            session.query(SubmittedAssignment.student_id, Assignment.name, SubmittedAssignment.timestamp)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .filter(Assignment.name.in_(assignments))
            .all()
        )
    finally:
        session.rollback()
    return {(student, assignment): as_utc(when) for student, assignment, when in rows}


def submissions_on_disk(course: NbgraderCourse, assignment: str) -> dict[str, datetime | None]:
    """Students with a submission of `assignment` in the submitted step, and its timestamp.

    Found with nbgrader's own path template (a literal `*` student id), so a course that changes
    `directory_structure` is still read right.
    """
    pattern = course.submitted_dir("*", assignment)
    student_part = pattern.parts.index("*")
    found: dict[str, datetime | None] = {}
    for folder in glob.glob(glob.escape(str(pattern)).replace(glob.escape("*"), "*")):
        path = Path(folder)
        if not path.is_dir():
            continue
        student = path.parts[student_part]
        stamp = path / TIMESTAMP_FILE
        try:
            found[student] = parse_timestamp(stamp.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            found[student] = None
    return found
