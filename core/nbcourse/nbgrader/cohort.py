"""What nbgrader knows about a whole cohort: its students and the submissions waiting on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from .course import NbgraderCourse
from .feedback import as_utc, parse_timestamp

# nbgrader writes this beside every submission (`nbgrader collect` / `submit`).
TIMESTAMP_FILE = "timestamp.txt"
# How nbgrader writes it ("2026-11-02 09:00:00.123456 UTC"): parsed directly, since dateutil's
# general parser costs ~0.15 ms a file, most of a 500-student cohort view's read time.
UTC_SUFFIX = " UTC"
STAMP_BYTES = 256  # a timestamp.txt is one short line


def list_students(gradebook: Any) -> list[str]:
    """Every student id the gradebook knows, sorted."""
    from nbgrader.api import Student

    session = gradebook.db
    try:
        return sorted(row[0] for row in session.query(Student.id).all())
    finally:
        session.rollback()  # never leave a read open: nbgrader must be able to write SQLite


def student_folders(course: NbgraderCourse, assignment: str) -> Iterator[tuple[str, str]]:
    """(student, submitted folder of `assignment`) for every student folder in the submitted step.

    Found with nbgrader's own path template (a literal `*` student id), so a course that changes
    `directory_structure` is still read right. The folder itself may not exist: callers open the
    files they want in it and skip what is missing (one system call, where a glob costs several).
    Folders are strings, not Paths: a 500-student cohort makes thousands of them per read.
    """
    pattern = course.submitted_dir("*", assignment)
    student_part = pattern.parts.index("*")
    parent = os.path.join(*pattern.parts[:student_part])
    rest = pattern.parts[student_part + 1 :]
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir():
            yield entry.name, os.path.join(entry.path, *rest)


class OnDisk(NamedTuple):
    """A submission in the submitted step: its timestamp and its folder (a string, see above)."""

    timestamp: datetime | None
    folder: str


def submissions_on_disk(course: NbgraderCourse, assignment: str) -> dict[str, OnDisk]:
    """Students with a submission of `assignment` in the submitted step, its timestamp and folder."""
    found: dict[str, OnDisk] = {}
    for student, folder in student_folders(course, assignment):
        try:
            # os-level reads: a cohort has thousands of these one-line files, and a text-mode
            # open() costs several times the read itself
            fd = os.open(os.path.join(folder, TIMESTAMP_FILE), os.O_RDONLY)
            try:
                text = os.read(fd, STAMP_BYTES).decode("utf-8")
            finally:
                os.close(fd)
            found[student] = OnDisk(read_timestamp(text.strip()), folder)
        except FileNotFoundError:
            if os.path.isdir(folder):
                found[student] = OnDisk(None, folder)
        except (OSError, UnicodeDecodeError):
            found[student] = OnDisk(None, folder)
    return found


def read_timestamp(text: str) -> datetime | None:
    """A timestamp.txt's time (aware, UTC), or None when it is not one."""
    if text.endswith(UTC_SUFFIX):
        try:
            return as_utc(datetime.fromisoformat(text[: -len(UTC_SUFFIX)]))
        except ValueError:
            pass
    return parse_timestamp(text)
