"""Where a learner's autograde results come from.

Two sources, tried in this order:

* the nbgrader **gradebook** (the self-paced learner after "Check my work", or an instructor's
  machine): per-cell scores straight from the database nbgrader wrote;
* **fetched feedback** (a cohort student on JupyterHub, who cannot read the instructor's
  gradebook): `nbgrader fetch_feedback` copies one HTML page per notebook to
  `<assignment>/feedback/<timestamp>/<notebook>.html` in the student's home, and nbgrader's
  feedback template writes every grade cell's score into the page's table of contents.

Both produce the same `NotebookGrade` values, so the rules in `states.py` need not care which.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import nbformat
from sqlalchemy.engine import make_url

ResultsSourceName = Literal["gradebook", "feedback", "none"]
CellKind = Literal["test", "answer", "task"]

# How long a non-SQLite gradebook read is reused: a tracker polled every few seconds must not hit
# a shared PostgreSQL server on every poll.
REMOTE_GRADEBOOK_TTL = 10.0
# After a gradebook cannot be opened (a student who may not read the instructor's database), wait
# this long before trying again: a connection attempt to an unreachable server can take seconds.
FAILED_GRADEBOOK_RETRY = 300.0


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
    # The submitted notebook file itself, when it is on disk (autograded/ for the gradebook).
    submission_path: Path | None = None


@dataclass
class Results:
    """Every graded notebook of the learner, keyed by (assignment, notebook)."""

    source: ResultsSourceName
    notebooks: dict[tuple[str, str], NotebookGrade] = field(default_factory=dict)

    def get(self, assignment: str, notebook: str) -> NotebookGrade | None:
        return self.notebooks.get((assignment, notebook))


# ---- notebooks on disk ---------------------------------------------------------------------------


class NotebookCache:
    """Parsed notebooks, re-read only when the file's (mtime, size) changes.

    The tracker is read every few seconds; re-parsing dozens of notebooks each time would make it
    slow, while stat() calls are cheap.
    """

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[int, int], Any]] = {}

    def read(self, path: Path) -> Any | None:
        """The notebook at `path` (nbformat node), or None when missing or unreadable."""
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._entries.get(path)
        if cached and cached[0] == key:
            return cached[1]
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # a half-saved or hand-broken notebook must not break the tracker
            nb = None
        self._entries[path] = (key, nb)
        return nb


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cells_by_grade_id(nb: Any) -> dict[str, Any]:
    """Cells carrying an nbgrader grade_id, keyed by it."""
    found: dict[str, Any] = {}
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            found[grade_id] = cell
    return found


def test_cell_ids(nb: Any) -> list[str]:
    """Autograder test cells: graded code cells that are not solution cells."""
    return [
        meta["grade_id"]
        for cell in nb.cells
        if cell.cell_type == "code"
        and (meta := nbgrader_meta(cell)).get("grade")
        and not meta.get("solution")
        and meta.get("grade_id")
    ]


# ---- gradebook -----------------------------------------------------------------------------------


def _sqlite_file(db_url: str) -> Path | None:
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    return Path(url.database or "")


def _ts(value: datetime | None) -> datetime | None:
    # nbgrader stores naive UTC datetimes.
    return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value


class GradebookSource:
    """Read one student's grades from an nbgrader gradebook, cached until the database changes."""

    def __init__(self, db_url: str, course_root: Path, student: str) -> None:
        self.db_url = db_url
        self.course_root = course_root
        self.student = student
        self._cache_key: object = None
        self._cache: dict[tuple[str, str], NotebookGrade] | None = None
        self._gradebook: Any = None
        self._retry_after = 0.0

    @property
    def sqlite_file(self) -> Path | None:
        """The database file when the gradebook is SQLite, else None."""
        return _sqlite_file(self.db_url) if self.db_url else None

    def _change_key(self) -> object | None:
        """A value that changes whenever the gradebook may have; None when there is no database."""
        sqlite = self.sqlite_file
        if sqlite is None:
            return int(time.monotonic() // REMOTE_GRADEBOOK_TTL)
        if not sqlite.is_file():
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
            return self._cache
        try:
            grades = self._query(wanted)
        except Exception:
            # An unreadable gradebook (no permission, PostgreSQL down) means "use the next source".
            # A remote one is retried after FAILED_GRADEBOOK_RETRY; a SQLite file as soon as it
            # changes (a read can fail while nbgrader holds the write lock).
            self.close()
            if self.sqlite_file is None:
                self._retry_after = time.monotonic() + FAILED_GRADEBOOK_RETRY
            grades = None
        self._cache, self._cache_key = grades, (key, wanted)
        return grades

    def close(self) -> None:
        if self._gradebook is not None:
            self._gradebook.close()
            self._gradebook = None

    def _open(self) -> Any:
        from nbgrader.api import Gradebook  # slow import; only once a database exists

        # Opening a Gradebook builds an engine and inspects the schema (tens of ms), so one stays
        # open for the life of the source; each read ends its transaction (see _query).
        if self._gradebook is None:
            self._gradebook = Gradebook(self.db_url)
        return self._gradebook

    def _query(self, assignments: tuple[str, ...]) -> dict[tuple[str, str], NotebookGrade] | None:
        from nbgrader.api import (
            Assignment,
            BaseCell,
            Grade,
            Notebook,
            SolutionCell,
            Student,
            SubmittedAssignment,
            SubmittedNotebook,
        )

        gb = self._open()
        session = gb.db
        try:
            if session.get(Student, self.student) is None:
                return None
            # One statement for every grade of the student (walking the ORM objects instead costs
            # a query per grade: ~0.4 s for a full course, too slow for a sidebar poll).
            rows = (
                session.query(
                    Assignment.name, Notebook.name, BaseCell.name, Grade.score, Grade.max_score,
                    Grade.needs_manual_grade, Grade.cell_type, SubmittedAssignment.timestamp,
                )
                .select_from(Grade)
                .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .join(BaseCell, Grade.cell_id == BaseCell.id)
                .filter(SubmittedAssignment.student_id == self.student)
                .filter(Assignment.name.in_(assignments))
                .all()
            )
            solutions = set(
                session.query(Assignment.name, Notebook.name, SolutionCell.name)
                .select_from(SolutionCell)
                .join(Notebook, SolutionCell.notebook_id == Notebook.id)
                .join(Assignment, Notebook.assignment_id == Assignment.id)
                .filter(Assignment.name.in_(assignments))
                .all()
            )
        finally:
            # End the read transaction: an open one would keep nbgrader from writing SQLite.
            session.rollback()

        cells: dict[tuple[str, str], dict[str, CellGrade]] = {}
        submitted: dict[str, datetime | None] = {}
        for assignment, notebook, grade_id, score, max_score, manual, cell_type, when in rows:
            if (assignment, notebook, grade_id) in solutions:
                kind: CellKind = "answer"
            elif cell_type == "markdown":
                kind = "task"
            else:
                kind = "test"
            cells.setdefault((assignment, notebook), {})[grade_id] = CellGrade(
                grade_id=grade_id,
                score=float(score or 0.0),
                max_score=float(max_score or 0.0),
                kind=kind,
                needs_manual_grade=bool(manual),
            )
            submitted[assignment] = _ts(when)

        found: dict[tuple[str, str], NotebookGrade] = {}
        for (assignment, name), graded in cells.items():
            base = self.course_root
            feedback = base / "feedback" / self.student / assignment / f"{name}.html"
            autograded = base / "autograded" / self.student / assignment / f"{name}.ipynb"
            found[(assignment, name)] = NotebookGrade(
                assignment=assignment,
                notebook=name,
                # As nbgrader's SubmittedNotebook.score / max_score: sums over the grade cells.
                score=sum(c.score for c in graded.values()),
                max_score=sum(c.max_score for c in graded.values()),
                cells=graded,
                submitted=submitted.get(assignment),
                feedback_path=feedback if feedback.is_file() else None,
                submission_path=autograded if autograded.is_file() else None,
            )
        return found


# ---- fetched feedback ----------------------------------------------------------------------------

# nbgrader's feedback template (server_extensions/formgrader/templates/feedback/index.html.j2)
# writes a table of contents: `<li><a href="#<grade_id>">Test cell</a> (Score: 1.0 / 1.0)</li>`,
# and the notebook total in the page heading: `<h4><notebook> (Score: 3.0 / 4.0)</h4>`.
_TOC_ENTRY = re.compile(
    r'<li><a href="#(?P<id>[^"]+)">(?P<label>Test cell|Coding free-response|Written response|Task)'
    r"</a>\s*\(Score:\s*(?P<score>[-\d.eE+]+)\s*/\s*(?P<max>[-\d.eE+]+)\)</li>"
)
_TOTAL = re.compile(r"<h4>[^<]*\(Score:\s*(?P<score>[-\d.eE+]+)\s*/\s*(?P<max>[-\d.eE+]+)\)</h4>")
_LABEL_KIND: dict[str, CellKind] = {
    "Test cell": "test",
    "Coding free-response": "answer",
    "Written response": "answer",
    "Task": "task",
}


class FeedbackParseError(ValueError):
    """A feedback page does not look like nbgrader's feedback template."""


def parse_feedback_html(text: str, where: str = "feedback") -> tuple[float, float, dict[str, CellGrade]]:
    """(score, max_score, cells) from one nbgrader feedback page."""
    total = _TOTAL.search(text)
    if total is None:
        raise FeedbackParseError(f"{where}: no '(Score: x / y)' heading; not an nbgrader feedback page")
    cells: dict[str, CellGrade] = {}
    for match in _TOC_ENTRY.finditer(text):
        grade_id = html.unescape(match["id"])
        cells[grade_id] = CellGrade(
            grade_id=grade_id,
            score=float(match["score"]),
            max_score=float(match["max"]),
            kind=_LABEL_KIND[match["label"]],
        )
    return float(total["score"]), float(total["max"]), cells


def _parse_timestamp(name: str) -> datetime | None:
    from nbgrader.utils import parse_utc

    try:
        parsed = parse_utc(name)
    except Exception:
        return None
    return _ts(parsed)


class FeedbackSource:
    """Grades from feedback pages fetched into the learner's folders (the newest timestamp wins)."""

    def __init__(self, workspace_dir: Path) -> None:
        self.workspace_dir = workspace_dir
        self._parsed: dict[Path, tuple[tuple[int, int], tuple[float, float, dict[str, CellGrade]]]] = {}

    def latest_feedback(self, assignment: str, notebook: str) -> tuple[Path, datetime | None] | None:
        root = self.workspace_dir / assignment / "feedback"
        try:
            stamps = [p for p in root.iterdir() if (p / f"{notebook}.html").is_file()]
        except OSError:
            return None
        if not stamps:
            return None

        def order(folder: Path) -> tuple[datetime, str]:
            when = _parse_timestamp(folder.name)
            return (when or datetime.min.replace(tzinfo=timezone.utc), folder.name)

        newest = max(stamps, key=order)
        return newest / f"{notebook}.html", _parse_timestamp(newest.name)

    def read(self, notebooks: Iterable[tuple[str, str]]) -> dict[tuple[str, str], NotebookGrade]:
        found: dict[tuple[str, str], NotebookGrade] = {}
        for assignment, notebook in notebooks:
            latest = self.latest_feedback(assignment, notebook)
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

    def __init__(self, db_url: str, course_root: Path, workspace_dir: Path, student: str) -> None:
        self.gradebook = GradebookSource(db_url, course_root, student)
        self.feedback = FeedbackSource(workspace_dir)

    def read(self, notebooks: Iterable[tuple[str, str]]) -> Results:
        notebooks = list(notebooks)
        assignments = list(dict.fromkeys(a for a, _ in notebooks))
        from_gradebook = self.gradebook.read(assignments)
        if from_gradebook is not None:
            return Results("gradebook", from_gradebook)
        from_feedback = self.feedback.read(notebooks)
        if from_feedback:
            return Results("feedback", from_feedback)
        return Results("none")
