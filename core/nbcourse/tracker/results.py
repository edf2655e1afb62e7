"""Where a learner's autograde results come from.

Two sources, tried in this order:

* the nbgrader **gradebook** (the self-paced learner after "Check my work", or an instructor's
  machine): per-cell scores straight from the database nbgrader wrote;
* **fetched feedback** (a cohort student on JupyterHub, who cannot read the instructor's
  gradebook): the pages `nbgrader fetch_feedback` copied into the student's folder.

Both produce the same `NotebookGrade` values, so the rules in `states.py` need not care which.
Reading and parsing are nbcourse.nbgrader's; this module decides which source to trust and when
to read again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..nbgrader import (
    CellGrade,
    FeedbackParseError,
    NbgraderCourse,
    NotebookGrade,
    gradebook_exists,
    latest_fetched_feedback,
    open_gradebook,
    parse_feedback_html,
    read_student_grades,
    sqlite_file,
)

ResultsSourceName = Literal["gradebook", "feedback", "none"]  # layering: wire values

# How long a non-SQLite gradebook read is reused: a tracker polled every few seconds must not hit
# a shared PostgreSQL server on every poll.
REMOTE_GRADEBOOK_TTL = 10.0
# After a gradebook cannot be opened (a student who may not read the instructor's database), wait
# this long before trying again: a connection attempt to an unreachable server can take seconds.
FAILED_GRADEBOOK_RETRY = 300.0


@dataclass
class Results:
    """Every graded notebook of the learner, keyed by (assignment, notebook)."""

    source: ResultsSourceName
    notebooks: dict[tuple[str, str], NotebookGrade] = field(default_factory=dict)

    def get(self, assignment: str, notebook: str) -> NotebookGrade | None:
        return self.notebooks.get((assignment, notebook))


class GradebookSource:
    """Read one student's grades from an nbgrader gradebook, cached until the database changes."""

    def __init__(self, db_url: str, course: NbgraderCourse | Path, student: str) -> None:
        self.db_url = db_url
        self._course = course
        self.student = student
        self._cache_key: object = None
        self._cache: dict[tuple[str, str], NotebookGrade] | None = None
        self._gradebook: Any = None
        self._retry_after = 0.0

    @property
    def course(self) -> NbgraderCourse:
        # Loaded on first use: a learner without a gradebook never needs nbgrader's config.
        if not isinstance(self._course, NbgraderCourse):
            self._course = NbgraderCourse.load(self._course)
        return self._course

    def _change_key(self) -> object | None:
        """A value that changes whenever the gradebook may have; None when there is no database."""
        sqlite = sqlite_file(self.db_url)
        if sqlite is None:
            return int(time.monotonic() // REMOTE_GRADEBOOK_TTL)
        if not gradebook_exists(self.db_url):
            return None  # never let nbgrader create an empty database just because we looked
        parts = []
        for suffix in ("", "-wal"):
            try:
                st = Path(f"{sqlite}{suffix}").stat()
                parts.append((st.st_mtime_ns, st.st_size))
            except OSError:
                parts.append(None)
        return tuple(parts)

    def read(self, assignments: Iterable[str]) -> dict[tuple[str, str], NotebookGrade] | None:
        """Every graded notebook of the student, or None when the gradebook lacks the student."""
        if not self.db_url:
            return None
        key = self._change_key()
        if key is None or time.monotonic() < self._retry_after:
            return None
        wanted = tuple(assignments)
        if self._cache is not None and self._cache_key == (key, wanted):
            return self._with_files(self._cache)
        try:
            # Opening a Gradebook builds an engine and inspects the schema (tens of ms), so one
            # stays open for the life of the source; each read ends its transaction.
            if self._gradebook is None:
                self._gradebook = open_gradebook(self.db_url)
            grades = read_student_grades(self._gradebook, self.course, self.student, wanted)
        except Exception:
            # An unreadable gradebook (no permission, PostgreSQL down) means "use the next source".
            # A remote one is retried after FAILED_GRADEBOOK_RETRY; a SQLite file as soon as it
            # changes (a read can fail while nbgrader holds the write lock).
            self.close()
            if sqlite_file(self.db_url) is None:
                self._retry_after = time.monotonic() + FAILED_GRADEBOOK_RETRY
            grades = None
        self._cache, self._cache_key = grades, (key, wanted)
        return grades

    def _with_files(
        self, grades: dict[tuple[str, str], NotebookGrade] | None
    ) -> dict[tuple[str, str], NotebookGrade] | None:
        """The cached grades with their feedback and autograded files looked up again.

        Feedback is written after the grades (autograde, then generate_feedback): a read between
        the two must not cache "no feedback" until the gradebook changes again. Two stat calls
        per notebook; the cached dict is returned as is when nothing changed.
        """
        if not grades:
            return grades
        changed: dict[tuple[str, str], NotebookGrade] = {}
        course, student = self.course, self.student
        for pair, grade in grades.items():
            feedback = course.feedback_dir(student, grade.assignment) / f"{grade.notebook}.html"
            autograded = course.autograded_dir(student, grade.assignment) / f"{grade.notebook}.ipynb"
            feedback_path = feedback if feedback.is_file() else None
            submission_path = autograded if autograded.is_file() else None
            if (feedback_path, submission_path) != (grade.feedback_path, grade.submission_path):
                changed[pair] = replace(grade, feedback_path=feedback_path, submission_path=submission_path)
        if not changed:
            return grades
        grades.update(changed)
        return grades

    def close(self) -> None:
        if self._gradebook is not None:
            self._gradebook.close()
            self._gradebook = None


class FeedbackSource:
    """Grades from feedback pages fetched into the learner's folders (the newest timestamp wins)."""

    def __init__(self, workspace_dir: Path) -> None:
        self.workspace_dir = workspace_dir
        self._parsed: dict[Path, tuple[tuple[int, int], tuple[float, float, dict[str, CellGrade]]]] = {}

    def read(self, notebooks: Iterable[tuple[str, str]]) -> dict[tuple[str, str], NotebookGrade]:
        found: dict[tuple[str, str], NotebookGrade] = {}
        for assignment, notebook in notebooks:
            latest = latest_fetched_feedback(self.workspace_dir, assignment, notebook)
            if latest is None:
                continue
            path, submitted = latest
            try:
                st = path.stat()
                key = (st.st_mtime_ns, st.st_size)
                cached = self._parsed.get(path)
                if cached and cached[0] == key:
                    parsed = cached[1]
                else:
                    parsed = parse_feedback_html(path.read_text(encoding="utf-8"), str(path))
                    self._parsed[path] = (key, parsed)
            except (OSError, UnicodeDecodeError, FeedbackParseError):
                continue  # a page we cannot read is no result, not a broken tracker
            score, max_score, cells = parsed
            found[(assignment, notebook)] = NotebookGrade(
                assignment=assignment,
                notebook=notebook,
                score=score,
                max_score=max_score,
                cells=cells,
                submitted=submitted,
                feedback_path=path,
            )
        return found


class ResultsReader:
    """Pick the best available source for one learner and read every notebook's latest grade."""

    def __init__(self, db_url: str, course: NbgraderCourse | Path, workspace_dir: Path, student: str) -> None:
        self.gradebook = GradebookSource(db_url, course, student)
        self.feedback = FeedbackSource(workspace_dir)

    def read(self, notebooks: Iterable[tuple[str, str]]) -> Results:
        notebooks = list(notebooks)
        assignments = list(dict.fromkeys(a for a, _ in notebooks))
        from_gradebook = self.gradebook.read(assignments)
        if from_gradebook is not None:
            return Results("gradebook", from_gradebook)
        from_feedback = self.feedback.read(notebooks)
        if from_feedback:
            return Results("feedback", from_feedback)  # layering: a wire value
        return Results("none")
