"""Grade one student's submission of one assignment with stock nbgrader.

`grade_submission` is the plain function every caller uses to grade one submission: the `course`
CLI, the JupyterLab server's "Check my work" (in a worker thread) and, later, Dask workers. It
does what an instructor does with a submission:

1. copy the notebooks of `notebooks_dir` into nbgrader's submitted folder (with a timestamp.txt);
2. record the assignment in the gradebook when it is missing or its tests changed
   (`generate_assignment` into a scratch folder; autograde needs the recorded test cells);
3. `nbgrader autograde`;
4. `nbgrader generate_feedback`;
5. read the per-cell scores back from the gradebook.

Failures raise `GradingError` with a message meant for the person who asked for the grade;
`GradingTimeout` when `timeout` ran out (its `step` says where).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..nbgrader import (
    EmptySubmission,
    MissingSource,
    NbgraderCancelled,
    NbgraderCourse,
    NbgraderError,
    NbgraderTimeout,
    NotebookGrade,
    RunOptions,
    autograde,
    cells_by_grade_id,
    copy_submission,
    generate_feedback,
    gradebook_up_to_date,
    open_gradebook,
    read_notebook,
    read_student_grades,
    record_assignment,
)

STEPS = ("copy", "prepare", "autograde", "generate_feedback", "results")

# progress(step, done, total): called as each step starts (done = steps finished before it).
Progress = Callable[[str, int, int], None]


class GradingError(Exception):
    """A step of grading failed; the message says what and what to do."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step


class GradingTimeout(GradingError):
    """Grading ran past its `timeout` and was stopped during `step`."""


@dataclass(frozen=True)
class CellResult:
    grade_id: str
    score: float
    max_score: float

    def to_json(self) -> dict[str, Any]:
        return {"grade_id": self.grade_id, "score": self.score, "max_score": self.max_score}


@dataclass(frozen=True)
class NotebookResult:
    """One notebook's autograde: its total and every grade cell, in notebook order."""

    notebook: str
    score: float
    max_score: float
    cells: list[CellResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "score": self.score,
            "max_score": self.max_score,
            "cells": [c.to_json() for c in self.cells],
        }


def grade_submission(
    course: NbgraderCourse | Path,
    assignment: str,
    student: str,
    notebooks_dir: Path,
    *,
    notebooks: Sequence[str] = (),
    db_url: str | None = None,
    progress: Progress | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> list[NotebookResult]:
    """Grade the notebooks in `notebooks_dir` as `student`'s submission of `assignment`.

    course: the course (or its root folder; its nbgrader_config.py is then read).
    notebooks: the assignment's notebook names, in the order results are returned (and the
        notebooks the gradebook must know); default: whatever was graded, by name.
    db_url: the gradebook to grade into (default: the course's configured one).
    progress: told each step as it starts.
    timeout: seconds for the whole grading; GradingTimeout after that.
    cancel: set it to stop a running grading (GradingError).
    Returns one NotebookResult per graded notebook.
    """
    course = NbgraderCourse.of(course)
    db = db_url or course.db_url
    deadline = None if timeout is None else time.monotonic() + timeout
    step = STEPS[0]

    def advance(name: str) -> RunOptions:
        nonlocal step
        step = name
        if progress is not None:
            progress(name, STEPS.index(name), len(STEPS))
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise NbgraderTimeout(name, None, [], "was not started: no time left")
        return RunOptions(db_url=db, timeout=left, cancel=cancel)

    try:
        advance("copy")
        if not notebooks_dir.is_dir():
            raise GradingError(
                f"there is no workspace folder {notebooks_dir}: open the assignment's notebooks "
                "from your workspace (the course setup copies them there) and try again",
                step,
            )
        copy_submission(notebooks_dir, course.submitted_dir(student, assignment), datetime.now(timezone.utc))

        options = advance("prepare")
        if not gradebook_up_to_date(course, db, assignment, notebooks):
            record_assignment(course, assignment, options)

        autograde(course, assignment, student, advance("autograde"))
        generate_feedback(course, assignment, student, advance("generate_feedback"))

        advance("results")
        return _results(course, db, assignment, student, notebooks)
    except NbgraderTimeout as exc:
        limit = f"{timeout:g} s" if timeout is not None else "its time limit"
        raise GradingTimeout(
            f"grading took longer than {limit} and was stopped during '{step}'", step
        ) from exc
    except (NbgraderCancelled, NbgraderError) as exc:
        raise GradingError(str(exc), step) from exc
    except (EmptySubmission, MissingSource) as exc:
        raise GradingError(str(exc), step) from exc


def _results(
    course: NbgraderCourse, db_url: str, assignment: str, student: str, order: Sequence[str]
) -> list[NotebookResult]:
    with open_gradebook(db_url) as gb:
        grades = read_student_grades(gb, course, student, [assignment]) or {}
    found = sorted(
        grades.values(),
        key=lambda g: (order.index(g.notebook) if g.notebook in order else len(order), g.notebook),
    )
    if not found:
        raise GradingError(
            f"nbgrader finished but the gradebook has no grades for {student}/{assignment}", "results"
        )
    return [_notebook_result(course, g) for g in found]


def _notebook_result(course: NbgraderCourse, grade: NotebookGrade) -> NotebookResult:
    """Cells in the order the learner sees them: the gradebook does not record positions, so they
    come from the source notebook (or the release when the source is not on this machine)."""
    position: dict[str, int] = {}
    for folder in (course.source_dir(grade.assignment), course.release_dir(grade.assignment)):
        nb = read_notebook(folder / f"{grade.notebook}.ipynb")
        if nb is not None:
            position = {gid: i for i, gid in enumerate(cells_by_grade_id(nb))}
            break
    cells = sorted(grade.cells.values(), key=lambda c: (position.get(c.grade_id, len(position)), c.grade_id))
    return NotebookResult(
        notebook=grade.notebook,
        score=grade.score,
        max_score=grade.max_score,
        cells=[CellResult(c.grade_id, c.score, c.max_score) for c in cells],
    )
