"""The instructor's cohort view, served from the gradebook (a face over `nbcourse.tracker.cohort`).

One report for the whole cohort, rebuilt only when the gradebook changes: every grade of every
student read into one table (`read_grade_table`), then judged per item for all students at once.
Failure messages come from the autograded notebooks, read lazily per test cell and cached by file
modification time.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any, Protocol

from nbcourse.nbgrader import NbgraderCourse, gradebook_exists, open_gradebook, read_grade_table, sqlite_file
from nbcourse.nbgrader.cohort import OnDisk, list_students, submissions_on_disk
from nbcourse.nbgrader.grades import empty_grade_table
from nbcourse.tracker.cohort import (
    MESSAGE_SAMPLE,
    SHARED_FILE,
    CohortInputs,
    MessageReader,
    cohort_csv,
    cohort_report,
)
from nbcourse.tracker.manifest import Manifest

from .errors import Forbidden, NotFound


class Tracker(Protocol):
    """What the cohort view needs of the server's `TrackerService` (which owns one CohortService)."""

    config: Any  # the CourseTracker settings: role, db_url
    log: Any

    def manifest(self) -> Manifest: ...

    def nbgrader(self) -> NbgraderCourse: ...


# A remote (PostgreSQL) gradebook has no file to watch: reuse a report this long.
REMOTE_TTL = 10.0


class CohortService:
    """Cohort reports for an instructor's server; every method refuses a student (Forbidden)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self._lock = threading.Lock()
        self._report: dict[str, Any] | None = None
        self._key: object = None
        self._manifest: object = None
        self._messages = MessageReader()
        self._body: tuple[dict[str, Any], str] | None = None

    def _require_instructor(self) -> None:
        if self.tracker.config.role != "instructor":
            raise Forbidden("the cohort view is for instructors; this server belongs to a student")

    def _db_url(self) -> str:
        return self.tracker.config.db_url or self.tracker.nbgrader().db_url

    def _change_key(self, db_url: str) -> object:
        db_file = sqlite_file(db_url)
        if db_file is not None:
            try:
                st = db_file.stat()
            except OSError:
                return None
            return (st.st_mtime_ns, st.st_size)
        return int(time.monotonic() // REMOTE_TTL)

    def warm_up(self) -> None:
        """Build the first report in a background thread (returns at once): the first build pays
        for nbgrader's import and the database engine (~0.3 s), so an instructor's first look at the
        cohort view is then a cached read. A failure is only logged; a request reports it."""

        def build() -> None:
            try:
                self.report()
            except Exception as exc:
                self.tracker.log.warning("course tracker: could not prepare the cohort view: %s", exc)

        threading.Thread(target=build, name="course-tracker-cohort-warm-up", daemon=True).start()

    def report(self) -> dict[str, Any]:
        self._require_instructor()
        db_url = self._db_url()
        manifest = self.tracker.manifest()  # a new object whenever course.yaml changed
        key = self._change_key(db_url)
        with self._lock:
            if self._report is None or key != self._key or manifest is not self._manifest:
                self._report, self._key, self._manifest = self._without_gc(db_url, manifest), key, manifest
            return self._report

    def _without_gc(self, db_url: str, manifest: Manifest) -> dict[str, Any]:
        """`_build` with Python's cycle collector paused: the build allocates ~10^5 acyclic objects
        (the driver's grade rows, the matrix's lists), and the collections they would trigger
        cost more than the rest of the build. The pause only defers collection; anything cyclic
        is collected once it is re-enabled."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._build(db_url, manifest)
        finally:
            if paused:
                gc.enable()

    def report_json(self) -> str:
        """The report as the handler sends it, encoded once per report (8 MB at 500 students)."""
        report = self.report()
        with self._lock:
            if self._body is None or self._body[0] is not report:
                self._body = (report, json.dumps(report, ensure_ascii=False))
            return self._body[1]

    def csv(self) -> str:
        return cohort_csv(self.report())

    def failures(self, assignment: str, notebook: str, grade_id: str) -> dict[str, Any]:
        """The grouped messages of one failing test cell (read from the autograded notebooks)."""
        report = self.report()
        entry = next(
            (
                f
                for f in report["failing"]
                if (f["assignment"], f["notebook"], f["grade_id"]) == (assignment, notebook, grade_id)
            ),
            None,
        )
        if entry is None:
            raise NotFound(f"no failing test cell {assignment}/{notebook}/{grade_id} in the cohort")
        course = self.tracker.nbgrader()
        paths = [course.autograded_dir(s, assignment) / f"{notebook}.ipynb" for s in entry["students"]]
        with self._lock:
            messages = self._messages.group(paths, grade_id)
        fields = ("assignment", "notebook", "grade_id", "failed", "graded")
        read = min(len(paths), MESSAGE_SAMPLE)
        return {**{k: entry[k] for k in fields}, "messages": messages, "read": read}

    def _build(self, db_url: str, manifest: Manifest) -> dict[str, Any]:
        # the manifest the cache key was taken with: the report matches the key
        course = self.tracker.nbgrader()
        assignments = [a.id for a in manifest.assignments]
        on_disk = {
            (student, assignment): found
            for assignment in assignments
            for student, found in submissions_on_disk(course, assignment).items()
        }
        students: set[str] = {s for s, _ in on_disk}
        table = empty_grade_table()
        if gradebook_exists(db_url):
            with open_gradebook(db_url) as gb:
                students.update(list_students(gb))
                table = read_grade_table(gb, assignments)
        shared = self._shared(on_disk)
        return cohort_report(
            CohortInputs(
                manifest=manifest,
                students=sorted(students),
                grades=table,
                on_disk={where: found.timestamp for where, found in on_disk.items()},
                shared={s: v for s, v in shared.items() if v and s in students},
            )
        )

    @staticmethod
    def _shared(on_disk: dict[tuple[str, str], OnDisk]) -> dict[str, dict[str, Any]]:
        """Per student, the newest progress snapshot they chose to share (it travels with a submission)."""
        newest: dict[str, tuple[float, dict[str, Any]]] = {}
        for (student, _), found in on_disk.items():
            path = os.path.join(found.folder, SHARED_FILE)
            if not os.access(path, os.R_OK):  # most students share nothing: ask cheaply (no exception)
                continue
            try:
                with open(path, "rb") as file:
                    mtime = os.fstat(file.fileno()).st_mtime
                    data = json.loads(file.read())
            except (OSError, ValueError, UnicodeDecodeError):
                continue
            items = data.get("items") if isinstance(data, dict) else None
            if isinstance(items, dict) and (student not in newest or mtime > newest[student][0]):
                newest[student] = (mtime, items)
        return {student: items for student, (_, items) in newest.items()}
