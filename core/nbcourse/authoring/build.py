"""Build the student release with stock `nbgrader generate_assignment`.

nbgrader does the stripping; leaks.py then checks its work independently, because a release that
leaks a solution or a hidden test is the one mistake a course cannot take back once students
have fetched it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from ..nbgrader import NbgraderCourse, NbgraderError
from ..nbgrader import generate_assignment as nbgrader_generate_assignment

BUILD_LOG_LINES = 20


class BuildError(RuntimeError):
    """nbgrader could not build an assignment."""


def generate_assignment(
    course: NbgraderCourse | Path, assignment: str, release_dir: Path, *, record_in_gradebook: bool = False
) -> None:
    """Run `nbgrader generate_assignment` into `release_dir` (a folder of assignment folders).

    Recording in the gradebook stores the master copy of every test cell, which `autograde` needs to
    restore tampered tests; a throwaway build (the sync check) leaves the gradebook alone.
    """
    try:
        nbgrader_generate_assignment(
            NbgraderCourse.of(course),
            assignment,
            release_root=release_dir,
            record_in_gradebook=record_in_gradebook,
        )
    except NbgraderError as exc:
        tail = "\n".join(exc.lines[-BUILD_LOG_LINES:])
        raise BuildError(f"nbgrader generate_assignment {assignment} failed:\n{tail}") from exc


def build_release(
    course: NbgraderCourse | Path,
    release_dir: Path,
    assignments: Iterable[str],
    *,
    record_in_gradebook: bool = False,
) -> None:
    """Regenerate `release_dir/<assignment>` for each assignment, replacing what was there."""
    course = NbgraderCourse.of(course)
    for assignment in assignments:
        target = release_dir / assignment
        if target.exists():
            shutil.rmtree(target)
        generate_assignment(course, assignment, release_dir, record_in_gradebook=record_in_gradebook)
