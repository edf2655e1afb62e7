"""Grade one student's submission of one assignment with the course's fast grader.

`grade_submission` is the plain function every caller uses to grade one submission: the `course`
CLI, the JupyterLab server's "Check my work" (in a worker thread, with an executor it keeps warm)
and Dask. It does what an instructor does with a submission:

1. copy the notebooks of `notebooks_dir` into nbgrader's submitted folder (with a timestamp.txt);
2. record the assignment in the gradebook when it is missing or its tests changed
   (`generate_assignment` into a scratch folder; autograde needs the recorded test cells), and
   take the executor (a server's warm one, or a fresh local one);
3. `grade_assignment` for this one student, regrading (nbgrader's own autograde preprocessors, in
   kernels forked from a server that imported the course's heavy modules once);
4. the course's feedback (nbgrader's GenerateFeedback with hidden tests hidden);
5. read the per-cell scores back from the gradebook, and each failed test's message from the
   autograded notebook through the same filter as feedback, so no hidden-test line can show.

A notebook that crashes, times out or is malformed does not fail the grading: it scores what
nbgrader would give (or 0) and its result says why. Failures of the grading itself raise
`GradingError` with a message meant for the person who asked for the grade; `GradingTimeout`
when `timeout` ran out (its `step` says where).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import nbformat

from ..nbgrader import (
    CellKind,
    EmptySubmission,
    MissingSource,
    NbgraderCancelled,
    NbgraderCourse,
    NbgraderError,
    NbgraderTimeout,
    NotebookGrade,
    RunOptions,
    cells_by_grade_id,
    copy_submission,
    gradebook_up_to_date,
    open_gradebook,
    read_notebook,
    read_student_grades,
    record_assignment,
)
from ..tracker.cohort import failure_message
from .feedback import HideHiddenTests, generate_feedback, private_paths
from .grader import Executor, GradeError, GradeReport, NotebookReport, grade_assignment

StepId = Literal["copy", "prepare", "grade", "write_feedback", "results"]
STEPS: tuple[StepId, ...] = ("copy", "prepare", "grade", "write_feedback", "results")
LABELS: dict[StepId, str] = {
    "copy": "Saving a copy of your work",
    "prepare": "Preparing the grader",
    "grade": "Grading",
    "write_feedback": "Writing feedback",
    "results": "Reading your results",
}
NotebookStatus = Literal["waiting", "running", "graded", "problem"]


@dataclass(frozen=True)
class NotebookProgress:
    notebook: str
    status: NotebookStatus = "waiting"
    seconds: float | None = None  # its grading wall time, once graded


@dataclass(frozen=True)
class GradingProgress:
    """Where a grading is: a snapshot, safe to keep and read from another thread.

    Progress units: copy, prepare, one per notebook, feedback, results (`total` = 4 + notebooks);
    `done` counts the units finished.
    """

    step: StepId
    label: str
    done: int
    total: int
    notebooks: tuple[NotebookProgress, ...] = ()

    @property
    def running(self) -> list[str]:
        return [n.notebook for n in self.notebooks if n.status == "running"]


Progress = Callable[[GradingProgress], None]


class GradingError(Exception):
    """A step of grading failed; the message says what and what to do."""

    def __init__(self, message: str, step: str) -> None:
        super().__init__(message)
        self.step = step


class GradingTimeout(GradingError):
    """Grading ran past its `timeout` and was stopped during `step`."""


@dataclass(frozen=True)
class CellResult:
    notebook: str
    grade_id: str
    kind: CellKind
    score: float
    max_score: float
    # Test cells: full marks. None for cells a person grades (written answers, tasks).
    passed: bool | None = None
    # A failed test's message ("AssertionError: <what the test's author wrote>"), never its source.
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "grade_id": self.grade_id,
            "kind": self.kind,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "message": self.message,
        }


@dataclass(frozen=True)
class NotebookResult:
    """One notebook's autograde: its total and every grade cell, in notebook order."""

    notebook: str
    score: float
    max_score: float
    cells: list[CellResult] = field(default_factory=list)
    problem: str | None = None  # why it was not graded normally (timed out, kernel died, unreadable)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "notebook": self.notebook,
            "score": self.score,
            "max_score": self.max_score,
            "cells": [c.to_json() for c in self.cells],
        }
        if self.problem:
            out["problem"] = self.problem
        return out


class _Steps:
    """The grading's progress, told to `progress` on every change; also the grader's reporter
    (`started` comes from worker threads, `finished` from the writer: changes are made under a lock)."""

    def __init__(self, progress: Progress | None, notebooks: Sequence[str]) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._state = GradingProgress("copy", LABELS["copy"], 0, 4 + len(notebooks), _waiting(notebooks))

    @property
    def state(self) -> GradingProgress:
        return self._state

    def _change(self, changes: Callable[[GradingProgress], dict[str, Any]]) -> None:
        with self._lock:
            self._state = replace(self._state, **changes(self._state))
            state = self._state
        if self._progress is not None:
            self._progress(state)

    def step(self, step: StepId) -> None:
        def changes(s: GradingProgress) -> dict[str, Any]:
            # Units finished before the step: copy, prepare, the notebooks, feedback, results.
            before = {"copy": 0, "prepare": 1, "grade": 2, "write_feedback": s.total - 2}
            before["results"] = s.total - 1
            return {"step": step, "label": LABELS[step], "done": before[step]}

        self._change(changes)

    def notebooks(self, names: Sequence[str]) -> None:
        """The notebooks that will be graded (known once the copy is made)."""
        self._change(lambda s: {"notebooks": _waiting(names), "total": 4 + len(names)})

    def _notebook(self, s: GradingProgress, name: str, **changes: Any) -> dict[str, Any]:
        rows = list(s.notebooks)
        if name not in [n.notebook for n in rows]:
            rows.append(NotebookProgress(name))
        updated = tuple(replace(n, **changes) if n.notebook == name else n for n in rows)
        return {"notebooks": updated, "label": grading_label(updated)}

    # ---- the grader's Reporter ----------------------------------------------------------------

    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None: ...

    def started(self, worker: str, student: str, notebook: str) -> None:
        self._change(lambda s: self._notebook(s, notebook, status="running"))

    def finished(self, item: NotebookReport) -> None:
        status: NotebookStatus = "problem" if item.problem else "graded"
        self._change(
            lambda s: {
                **self._notebook(s, item.notebook, status=status, seconds=round(item.seconds, 1)),
                "done": s.done + 1,
            }
        )

    def note(self, text: str) -> None: ...

    def end(self, report: GradeReport) -> None: ...


def grading_label(rows: Sequence[NotebookProgress]) -> str:
    """ "Grading <notebook> (2 of 3)": the notebooks running and where they are in the count."""
    running = [n.notebook for n in rows if n.status == "running"]
    if not running:
        return LABELS["grade"]
    finished = sum(n.status in ("graded", "problem") for n in rows)
    first, last = finished + 1, min(finished + len(running), len(rows))
    position = f"{first}" if first == last else f"{first}–{last}"
    return f"{LABELS['grade']} {', '.join(running)} ({position} of {len(rows)})"


def _waiting(notebooks: Sequence[str]) -> tuple[NotebookProgress, ...]:
    return tuple(NotebookProgress(nb) for nb in notebooks)


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
    executor: Executor | Callable[[], Executor] | None = None,
) -> list[NotebookResult]:
    """Grade the notebooks in `notebooks_dir` as `student`'s submission of `assignment`.

    course: the course (or its root folder; its nbgrader_config.py is then read).
    notebooks: the assignment's notebook names, in the order results are returned (and the
        notebooks the gradebook must know); default: whatever was graded, by name.
    db_url: the gradebook to grade into (default: the course's configured one).
    progress: told every change (step, notebook started or graded).
    timeout: seconds for the whole grading; GradingTimeout after that (a notebook still running
        then is stopped: each notebook's time limit is at most what is left).
    cancel: set it to stop a grading between steps and during prepare's nbgrader run (GradingError).
    executor: where notebooks run: an executor the caller keeps warm (or a function giving it,
        called during "prepare"; it may wait for the executor to warm up); default: a local one
        started and closed here.
    Returns one NotebookResult per graded notebook.
    """
    course = NbgraderCourse.of(course)
    db = db_url or course.db_url
    deadline = None if timeout is None else time.monotonic() + timeout
    steps = _Steps(progress, list(notebooks))
    order = list(notebooks)

    def left() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def advance(step: StepId) -> RunOptions:
        steps.step(step)
        if cancel is not None and cancel.is_set():
            raise GradingError("the grading was stopped: the server is shutting down", step)
        remaining = left()
        if remaining is not None and remaining <= 0:
            raise NbgraderTimeout(step, None, [], "was not started: no time left")
        return RunOptions(db_url=db, timeout=remaining, cancel=cancel)

    try:
        advance("copy")
        if not notebooks_dir.is_dir():
            raise GradingError(
                f"there is no workspace folder {notebooks_dir}: open the assignment's notebooks "
                "from your workspace (the course setup copies them there) and try again",
                steps.state.step,
            )
        copied = copy_submission(
            notebooks_dir, course.submitted_dir(student, assignment), datetime.now(timezone.utc)
        )
        order = order or sorted(copied)
        steps.notebooks([nb for nb in order if nb in copied] if notebooks else order)

        options = advance("prepare")
        if not gradebook_up_to_date(course, db, assignment, notebooks):
            record_assignment(course, assignment, options)
        pool = executor() if callable(executor) else executor

        advance("grade")
        grading = _course_for(course, db, left())
        try:
            report = grade_assignment(
                grading, assignment, students=[student], force=True, executor=pool or "local", reporter=steps
            )
        except GradeError as exc:
            raise GradingError(str(exc), "grade") from exc
        if report.interrupted:
            raise GradingError("grading was interrupted", "grade")
        remaining = left()
        if remaining is not None and remaining <= 0:
            raise NbgraderTimeout("grade", None, [], "ran out of time")

        advance("write_feedback")
        _write_feedback(grading, assignment, student)

        advance("results")
        problems = {item.notebook: item.problem for item in report.graded if item.problem}
        return _results(course, db, assignment, student, order, problems)
    except NbgraderTimeout as exc:
        limit = f"{timeout:g} s" if timeout is not None else "its time limit"
        raise GradingTimeout(
            f"grading took longer than {limit} and was stopped during '{steps.state.label}'",
            steps.state.step,
        ) from exc
    except (NbgraderCancelled, NbgraderError) as exc:
        raise GradingError(str(exc), steps.state.step) from exc
    except (EmptySubmission, MissingSource) as exc:
        raise GradingError(str(exc), steps.state.step) from exc


def _write_feedback(course: NbgraderCourse, assignment: str, student: str) -> None:
    """Feedback for each notebook with an autograded copy; an older page of a notebook without
    one (it could not be graded this time) is removed, so no page shows an old score."""
    autograded = course.autograded_dir(student, assignment)
    graded = {p.stem for p in autograded.glob("*.ipynb")}
    for page in course.feedback_dir(student, assignment).glob("*.html"):
        if page.stem not in graded:
            page.unlink()
    if graded:  # nbgrader refuses a submission with no notebook at all
        generate_feedback(course, assignment, [student])


def _course_for(course: NbgraderCourse, db_url: str, seconds_left: float | None) -> NbgraderCourse:
    """The course as this grading sees it: grading into `db_url`, no notebook running past the
    time left. A copy of the config: the caller's course (a server's, kept) is not changed."""
    config = copy.deepcopy(course.config)
    config.CourseDirectory.db_url = db_url
    if seconds_left is not None:
        configured = config.get("CourseGrader", {}).get("notebook_timeout")
        config.CourseGrader.notebook_timeout = min(float(configured or seconds_left), seconds_left)
    return NbgraderCourse(course.root, config)


def _results(
    course: NbgraderCourse,
    db_url: str,
    assignment: str,
    student: str,
    order: Sequence[str],
    problems: dict[str, str],
) -> list[NotebookResult]:
    with open_gradebook(db_url) as gb:
        grades = read_student_grades(gb, course, student, [assignment]) or {}
    found = sorted(
        grades.values(),
        key=lambda g: (order.index(g.notebook) if g.notebook in order else len(order), g.notebook),
    )
    if not found:
        raise GradingError(
            f"the grader finished but the gradebook has no grades for {student}/{assignment}", "results"
        )
    hide = HideHiddenTests(private_paths=private_paths(course))
    autograded = course.autograded_dir(student, assignment)
    return [
        _notebook_result(
            course,
            g,
            failed_test_messages(hide, autograded / f"{g.notebook}.ipynb"),
            problems.get(g.notebook),
        )
        for g in found
    ]


def failed_test_messages(hide: HideHiddenTests, autograded: Path) -> dict[str, str]:
    """grade_id -> the failure message of each failed test cell of an autograded notebook, as
    feedback shows it (hidden lines and private paths redacted)."""
    try:
        nb = nbformat.read(autograded, as_version=4)
    except (OSError, ValueError):
        return {}
    nb, _ = hide.preprocess(nb, {})
    found: dict[str, str] = {}
    for gid, cell in cells_by_grade_id(nb).items():
        message = failure_message(cell)
        if message is not None:
            found[gid] = message
    return found


def _notebook_result(
    course: NbgraderCourse, grade: NotebookGrade, messages: dict[str, str], problem: str | None
) -> NotebookResult:
    """Cells in the order the learner sees them: the gradebook does not record positions, so they
    come from the source notebook (or the release when the source is not on this machine)."""
    position: dict[str, int] = {}
    for folder in (course.source_dir(grade.assignment), course.release_dir(grade.assignment)):
        nb = read_notebook(folder / f"{grade.notebook}.ipynb")
        if nb is not None:
            position = {gid: i for i, gid in enumerate(cells_by_grade_id(nb))}
            break
    cells = sorted(grade.cells.values(), key=lambda c: (position.get(c.grade_id, len(position)), c.grade_id))
    results = []
    for c in cells:
        passed = c.full_marks if c.kind == "test" else None
        message = messages.get(c.grade_id) if passed is False else None
        results.append(CellResult(grade.notebook, c.grade_id, c.kind, c.score, c.max_score, passed, message))
    return NotebookResult(
        notebook=grade.notebook, score=grade.score, max_score=grade.max_score, cells=results, problem=problem
    )
