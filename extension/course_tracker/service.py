"""The server extension: one `TrackerService` per server, and its registration with Jupyter.

The service owns everything the REST handlers need (manifest, store, result sources, env checks,
the "Check my work" runner) and is built lazily, so a server started outside any course still
starts: every tracker request then answers 500 with a message that says how to point the
extension at the course.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .checks import Check, CheckRunner, CheckSettings
from .config import CourseTracker
from .envchecks import EnvChecker
from .manifest import Item, Manifest, load_manifest
from .results import NotebookCache, Results, ResultsReader
from .states import ItemState, StateInputs, compute_states, sections_json, summary
from .store import Store, StoredItem

T = TypeVar("T")
COMPUTED_KINDS = ("auto", "env", "derived")
# A journal entry is long; a megabyte of text in one field is a mistake or an attack.
MAX_TEXT_LENGTH = 100_000


class NotFound(Exception):
    """An unknown item, assignment, check or feedback file (HTTP 404)."""


class BadRequest(Exception):
    """A malformed request (HTTP 400); the message says which field is wrong and why."""


class TrackerService:
    """The tracker for one course and one learner, as the handlers see it."""

    def __init__(self, config: CourseTracker, log: logging.Logger | Any = None) -> None:
        self.config = config
        self.log = log or logging.getLogger(__name__)
        self._lock = threading.RLock()
        self._manifest: Manifest | None = None
        self._manifest_key: tuple[int, int] | None = None
        self._sections: list[dict[str, Any]] = []
        self._store: Store | None = None
        self._reader: ResultsReader | None = None
        self._env: EnvChecker | None = None
        self._checks: CheckRunner | None = None
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
        return Path(self.config.workspace_dir or self.course_root / "workspace").expanduser()

    @property
    def server_root(self) -> Path | None:
        return Path(self.config.server_root_dir) if self.config.server_root_dir else None

    def manifest(self) -> Manifest:
        """The manifest, re-read when course.yaml changes (an instructor editing it live)."""
        path = self.course_root / "course.yaml"
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._manifest is None or key != self._manifest_key:
                manifest = load_manifest(path)
                if self._manifest is not None and manifest.course_id != self._manifest.course_id:
                    self._store = None  # another course: another store file
                self._manifest, self._manifest_key = manifest, key
                self._sections = sections_json(manifest)
                if self._checks is not None:
                    self._checks.settings.notebooks = self._notebook_map(manifest)
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
                    self.config.db_url, self.course_root, self.workspace_dir, self.config.student_id
                )
            return self._reader

    def _env_checker(self) -> EnvChecker:
        with self._lock:
            if self._env is None:
                self._env = EnvChecker(self.course_root, self.workspace_dir)
            return self._env

    def checks(self) -> CheckRunner:
        manifest = self.manifest()
        with self._lock:
            if self._checks is None:
                settings = CheckSettings(
                    course_root=self.course_root,
                    workspace_dir=self.workspace_dir,
                    student=self.config.student_id,
                    db_url=self.config.db_url,
                    timeout=self.config.check_timeout,
                    notebooks=self._notebook_map(manifest),
                )
                self._checks = CheckRunner(settings, self.log)
            return self._checks

    @staticmethod
    def _notebook_map(manifest: Manifest) -> dict[str, list[str]]:
        return {a.id: list(a.notebooks) for a in manifest.assignments}

    # ---- reading -------------------------------------------------------------------------

    def results(self) -> Results:
        manifest = self.manifest()
        pairs = [(a.id, nb) for a in manifest.assignments for nb in a.notebooks]
        return self._results_reader().read(pairs)

    def states(self, results: Results | None = None) -> dict[str, ItemState]:
        manifest = self.manifest()
        inputs = StateInputs(
            manifest=manifest,
            stored=self.store().read_all(),
            results=results if results is not None else self.results(),
            env=self._env_checker(),
            course_root=self.course_root,
            workspace_dir=self.workspace_dir,
            notebooks=self._notebooks,
            server_root=self.server_root,
        )
        return compute_states(inputs)

    def tracker(self) -> dict[str, Any]:
        """The `Tracker` wire object."""
        manifest = self.manifest()
        results = self.results()
        states = self.states(results)
        runner = self._checks
        assignments = []
        for assignment in manifest.assignments:
            info: dict[str, Any] = {
                "id": assignment.id,
                "title": assignment.title,
                "notebooks": list(assignment.notebooks),
                # A check needs the source (hidden tests) to grade with: the self-paced setup.
                "checkable": (self.course_root / "source" / assignment.id).is_dir(),
            }
            last = runner.latest.get(assignment.id) if runner else None
            if last is not None:
                info["last_check"] = last.to_json()
            assignments.append(info)
        return {
            "course_id": manifest.course_id,
            "title": manifest.title,
            "student": self.config.student_id,
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
        self.item(item_id)
        return self.states()[item_id]

    # ---- writing -------------------------------------------------------------------------

    def validate_value(self, item: Item, value: object) -> bool | str:
        """The value, if it is one the item can hold; BadRequest says why not."""
        if item.kind in COMPUTED_KINDS:
            raise BadRequest(
                f"item {item.id!r} is a {item.kind!r} item: its state is computed, it cannot be set"
            )
        if item.kind == "self":
            if not isinstance(value, bool):
                raise BadRequest(
                    f"item {item.id!r} is a checkbox: value must be true or false, "
                    f"got {type(value).__name__}"
                )
            return value
        if not isinstance(value, str):
            raise BadRequest(
                f"item {item.id!r} is a {item.kind!r} item: value must be a string, "
                f"got {type(value).__name__}"
            )
        if item.kind == "choice":
            # "" clears the choice.
            if value and value not in item.options:
                raise BadRequest(
                    f"{value!r} is not an option of item {item.id!r} "
                    f"(options: {', '.join(item.options)})"
                )
            return value
        if len(value) > MAX_TEXT_LENGTH:
            raise BadRequest(
                f"item {item.id!r}: text of {len(value)} characters is longer than the "
                f"{MAX_TEXT_LENGTH} allowed"
            )
        if not item.multiline and ("\n" in value or "\r" in value):
            raise BadRequest(f"item {item.id!r} is a single-line field: value must not contain line breaks")
        return value

    def set_item(self, item_id: str, value: object, rev: int) -> StoredItem:
        """Store a learner's value; raises NotFound, BadRequest or store.Conflict."""
        item = self.item(item_id)
        checked = self.validate_value(item, value)
        return self.store().set(item_id, checked, rev)

    # ---- checks, export, feedback ----------------------------------------------------------

    def start_check(self, assignment: str) -> tuple[Check, bool]:
        self._assignment(assignment)
        return self.checks().start(assignment)

    def get_check(self, check_id: str) -> Check:
        runner = self.checks()
        try:
            return runner.get(check_id)
        except KeyError:
            raise NotFound(f"unknown check {check_id!r}") from None

    def _assignment(self, assignment: str) -> Any:
        try:
            return self.manifest().assignment(assignment)
        except KeyError:
            raise NotFound(f"unknown assignment {assignment!r}") from None

    def export(self) -> tuple[str, str]:
        """(file name, Markdown text) of the filled tracker."""
        from .markdown import render_markdown

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


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Called by jupyter_server: build the service and register the REST handlers."""
    from .handlers import routes

    config = CourseTracker(parent=serverapp, server_root_dir=str(serverapp.root_dir))
    service = TrackerService(config, serverapp.log)
    serverapp.web_app.add_handlers(
        ".*$", routes(serverapp.web_app.settings["base_url"], service)
    )
    try:
        where = service.course_root
        serverapp.log.info(
            "course tracker: course %s, student %s, store %s",
            where,
            config.student_id,
            config.resolved_store_path(service.manifest().course_id),
        )
    except Exception as exc:  # keep the server up; requests answer 500 with the same message
        serverapp.log.error("course tracker: %s", exc)
