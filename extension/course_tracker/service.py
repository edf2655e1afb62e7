"""The per-learner service: one course and one learner, as the learner's handlers see it.

It owns everything the REST handlers need (manifest, nbgrader folders, store, result sources, env
checks, the "Check my work" registry) and builds it lazily, so a server started outside any
course still starts: every tracker request then answers 500 with a message that says how to
point the extension at the course. The rules themselves are nbcourse's; this class only wires
them to one learner's configuration and keeps their caches alive between requests.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nbcourse.authoring.workspace import default_workspace
from nbcourse.nbgrader import NbgraderCourse
from nbcourse.tracker.cohort import ENTERED_KINDS, SHARED_FILE
from nbcourse.tracker.envchecks import EnvChecker
from nbcourse.tracker.manifest import MANIFEST_FILE, Assignment, Item, Manifest, load_manifest
from nbcourse.tracker.markdown import render_markdown
from nbcourse.tracker.notebooks import NotebookCache
from nbcourse.tracker.results import Results, ResultsReader
from nbcourse.tracker.states import (
    ItemState,
    StateInputs,
    assignment_available,
    assignment_progress,
    compute_states,
    required_items,
    summary,
)
from nbcourse.tracker.store import Store, StoredItem, now_iso
from nbcourse.tracker.values import InvalidValue, validate_value
from nbcourse.tracker.wire import sections_json

from .config import CourseTracker

if TYPE_CHECKING:
    from .cohort import CohortService
from .errors import BadRequest, Forbidden, NotFound
from .jobs import Check, CheckRunner, CheckSettings

T = TypeVar("T")


class TrackerService:
    """The tracker for one course and one learner."""

    def __init__(self, config: CourseTracker, log: logging.Logger | Any = None) -> None:
        self.config = config
        self.log = log or logging.getLogger(__name__)
        self._lock = threading.RLock()
        self._manifest: Manifest | None = None
        self._manifest_key: tuple[int, int] | None = None
        self._sections: list[dict[str, Any]] = []
        self._nbgrader: NbgraderCourse | None = None
        self._store: Store | None = None
        self._reader: ResultsReader | None = None
        self._env: EnvChecker | None = None
        # Read without the lock (GET checks/<id> runs on the event loop): set once, never replaced.
        self._checks: CheckRunner | None = None
        self._cohort: CohortService | None = None
        self._notebooks = NotebookCache()

    def locked(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` alone: the handlers call the service from worker threads, and the
        caches behind it (notebooks, hashes, the gradebook session) are not thread-safe."""
        with self._lock:
            return fn(*args)

    # ---- the course ----------------------------------------------------------------------

    @property
    def course_root(self) -> Path:
        return self.config.resolved_course_root()

    @property
    def workspace_dir(self) -> Path:
        return Path(self.config.workspace_dir or default_workspace(self.course_root)).expanduser()

    @property
    def server_root(self) -> Path | None:
        return Path(self.config.server_root_dir) if self.config.server_root_dir else None

    def nbgrader(self) -> NbgraderCourse:
        """The course's nbgrader configuration and folders, read once."""
        with self._lock:
            if self._nbgrader is None:
                self._nbgrader = NbgraderCourse.load(self.course_root)
            return self._nbgrader

    def manifest(self) -> Manifest:
        """The manifest, re-read when course.yaml changes (an instructor editing it live)."""
        path = self.course_root / MANIFEST_FILE
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._manifest is None or key != self._manifest_key:
                manifest = load_manifest(path)
                if self._manifest is not None and manifest.course_id != self._manifest.course_id:
                    self._store = None  # another course: another store file
                self._manifest, self._manifest_key = manifest, key
                self._sections = sections_json(manifest)
                self._env = None  # the environment block may have changed
            return self._manifest

    def store(self) -> Store:
        manifest = self.manifest()
        with self._lock:
            if self._store is None:
                path = self.config.resolved_store_path(manifest.course_id)
                self._store = Store(path, manifest.course_id)
            return self._store

    def _results_reader(self) -> ResultsReader:
        with self._lock:
            if self._reader is None:
                self._reader = ResultsReader(
                    self.config.db_url, self.nbgrader(), self.workspace_dir, self.config.student_id
                )
            return self._reader

    def _env_checker(self) -> EnvChecker:
        manifest = self.manifest()
        with self._lock:
            if self._env is None:
                self._env = EnvChecker(self.course_root, self.workspace_dir, manifest.environment.data)
            return self._env

    def warm_up_checks(self) -> None:
        """Start Check my work's grader in the background (returns at once; failures are logged:
        the first check then starts it again and reports what is wrong)."""
        try:
            self._check_runner().warm_up()
        except Exception as exc:
            self.log.warning("course tracker: could not warm up Check my work: %s", exc)

    def cohort(self) -> CohortService:
        """The instructor's cohort reports, one service per server (each method refuses a student)."""
        from .cohort import CohortService  # imports this module

        with self._lock:
            if self._cohort is None:
                self._cohort = CohortService(self)
            return self._cohort

    def _check_runner(self) -> CheckRunner:
        with self._lock:
            if self._checks is None:
                settings = CheckSettings(
                    course_root=self.course_root,
                    workspace_dir=self.workspace_dir,
                    student=self.config.student_id,
                    db_url=self.config.db_url,
                    timeout=self.config.check_timeout,
                    notebooks={},
                    course=self.nbgrader(),
                )
                self._checks = CheckRunner(settings, self.log)
            return self._checks

    # ---- reading -------------------------------------------------------------------------

    def results(self) -> Results:
        manifest = self.manifest()
        pairs = [(a.id, nb) for a in manifest.assignments for nb in a.notebooks]
        return self._results_reader().read(pairs)

    def states(self, results: Results | None = None, only: list[str] | None = None) -> dict[str, ItemState]:
        """Every item's state, or only those of `only` (and what they are computed from)."""
        manifest = self.manifest()
        if results is None:
            needed = required_items(manifest, only) if only is not None else None
            # A checkbox, a choice or a text needs no grades: skip the gradebook read for them.
            wants_grades = needed is None or any(manifest.item(i).kind == "auto" for i in needed)
            results = self.results() if wants_grades else Results("none")
        return compute_states(self._inputs(results), only)

    def _inputs(self, results: Results) -> StateInputs:
        return StateInputs(
            manifest=self.manifest(),
            stored=self.store().read_all(),
            results=results,
            env=self._env_checker(),
            course_root=self.course_root,
            workspace_dir=self.workspace_dir,
            notebooks=self._notebooks,
            server_root=self.server_root,
            nbgrader=self.nbgrader(),
        )

    def tracker(self) -> dict[str, Any]:
        """The `Tracker` wire object."""
        manifest = self.manifest()
        results = self.results()
        inputs = self._inputs(results)
        states = compute_states(inputs)
        course = self.nbgrader()
        runner = self._checks
        assignments = []
        for assignment in manifest.assignments:
            progress = assignment_progress(inputs, assignment)
            info: dict[str, Any] = {
                "id": assignment.id,
                "title": assignment.title,
                "notebooks": list(assignment.notebooks),
                # A check needs the source (hidden tests) to grade with: the self-paced setup.
                "checkable": self.config.check_my_work and course.source_dir(assignment.id).is_dir(),
                **progress,
            }
            last = runner.latest(assignment.id) if runner else None
            if last is not None:
                info["last_check"] = last.to_json()
            assignments.append(info)
        return {
            "course_id": manifest.course_id,
            "title": manifest.title,
            "student": self.config.student_id,
            "role": self.config.role,
            "check_my_work": self.config.check_my_work,
            "sharing": self.store().settings()["share"],
            "results_source": results.source,
            "sections": self._sections,
            "states": states,
            "assignments": assignments,
            "summary": summary(manifest, states),
        }

    def item(self, item_id: str) -> Item:
        try:
            return self.manifest().item(item_id)
        except KeyError:
            raise NotFound(f"unknown item {item_id!r}") from None

    def item_state(self, item_id: str) -> ItemState:
        """One item's state, computed alone (an edit must not re-read every grade and env check)."""
        self.item(item_id)
        return self.states(only=[item_id])[item_id]

    # ---- writing -------------------------------------------------------------------------

    def set_item(self, item_id: str, value: object, rev: int) -> StoredItem:
        """Store a learner's value; raises NotFound, BadRequest or store.Conflict."""
        item = self.item(item_id)
        try:
            checked = validate_value(item, value)
        except InvalidValue as exc:
            raise BadRequest(str(exc)) from None
        stored = self.store().set(item_id, checked, rev)
        if item.kind in ENTERED_KINDS and self.store().settings()["share"]:
            self._write_shared()  # the next submission carries the edit
        return stored

    # ---- sharing with instructors ----------------------------------------------------------

    def set_sharing(self, share: bool) -> dict[str, Any]:
        """Turn sharing of the learner's entered items on (write the shared files) or off (remove them)."""
        self.store().set_setting("share", share)
        written = self._write_shared() if share else self._remove_shared()
        return {"sharing": share, "written": written}

    def _shared_paths(self) -> list[Path]:
        """One shared file per assignment folder the learner has: it is submitted with the folder."""
        return [
            self.workspace_dir / a.id / SHARED_FILE
            for a in self.manifest().assignments
            if (self.workspace_dir / a.id).is_dir()
        ]

    def _write_shared(self) -> list[str]:
        manifest = self.manifest()
        stored = self.store().read_all()
        items = {
            item.id: stored[item.id].value
            for item in manifest.iter_items()
            if item.kind in ENTERED_KINDS and item.id in stored and stored[item.id].value not in (None, "")
        }
        document = {
            "course_id": manifest.course_id,
            "student": self.config.student_id,
            "updated": now_iso(),
            "items": items,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        written = []
        for path in self._shared_paths():
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)  # a submission never picks up half a file
            written.append(path.relative_to(self.workspace_dir).as_posix())
        return written

    def _remove_shared(self) -> list[str]:
        removed = []
        for path in self._shared_paths():
            if path.is_file():
                path.unlink()
                removed.append(path.relative_to(self.workspace_dir).as_posix())
        return removed

    # ---- checks, export, feedback ----------------------------------------------------------

    def start_check(self, assignment: str) -> tuple[Check, bool]:
        """Start "Check my work" (in a thread of its own); the running check if there is one."""
        if not self.config.check_my_work:
            raise Forbidden(
                "Check my work is turned off on this server (CourseTracker.check_my_work = False): "
                "your instructor grades your submissions"
            )
        known = self._assignment(assignment)
        if not assignment_available(self.nbgrader(), self.workspace_dir, known.id):
            raise NotFound(
                f"assignment {known.id!r} is coming soon: it has no notebooks here yet, so there is "
                "nothing to check"
            )
        runner = self._check_runner()
        runner.settings.notebooks[known.id] = list(known.notebooks)
        return runner.start(known.id)

    def get_check(self, check_id: str) -> Check:
        """Lock-free: safe on the event loop while a slow read holds the service lock."""
        runner = self._checks
        try:
            if runner is None:
                raise KeyError(check_id)
            return runner.get(check_id)
        except KeyError:
            raise NotFound(f"unknown check {check_id!r}") from None

    def _assignment(self, assignment: str) -> Assignment:
        try:
            return self.manifest().assignment(assignment)
        except KeyError:
            raise NotFound(f"unknown assignment {assignment!r}") from None

    def export(self) -> tuple[str, str]:
        """(file name, Markdown text) of the filled tracker."""
        manifest = self.manifest()
        return f"{manifest.course_id}-progress.md", render_markdown(manifest, self.states())

    def feedback_path(self, assignment: str, notebook: str) -> Path:
        """The learner's own feedback page for one notebook; NotFound when there is none.

        Both names are checked against the manifest before any path is built from them, so no
        request can reach a file outside the learner's feedback folders.
        """
        known = self._assignment(assignment)
        if notebook not in known.notebooks:
            raise NotFound(f"unknown notebook {notebook!r} of assignment {assignment!r}")
        grade = self.results().get(assignment, notebook)
        if grade is None or grade.feedback_path is None:
            raise NotFound(f"no feedback yet for {assignment}/{notebook}")
        return grade.feedback_path
