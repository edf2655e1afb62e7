""" "Check my work" jobs: the registry that runs `grade_submission` off the event loop.

A check grades the learner's workspace copy of an assignment as their submission
(`nbcourse.grading.submission.grade_submission`: copy, record in the gradebook, autograde,
feedback, results). It runs in a thread of its own, so the server keeps serving while notebooks
execute; `Check` objects are what the REST API reports while it runs. Checks share one lock: two
autogrades writing one SQLite gradebook at once would fail with "database is locked".
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from nbcourse.grading.submission import STEPS, GradingError, GradingTimeout, grade_submission
from nbcourse.nbgrader import NbgraderCourse

CheckStatus = Literal["queued", "running", "done", "failed"]


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Check:
    """One "Check my work" run (the `Check` wire type)."""

    id: str
    assignment: str
    status: CheckStatus = "queued"
    step: str = "queued"
    done: int = 0
    total: int = len(STEPS)
    started: str = field(default_factory=_iso_now)
    finished: str | None = None
    results: list[dict[str, Any]] | None = None
    message: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "assignment": self.assignment,
            "status": self.status,
            "step": self.step,
            "done": self.done,
            "total": self.total,
            "started": self.started,
        }
        for name in ("finished", "results", "message"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class CheckSettings:
    course_root: Path
    workspace_dir: Path
    student: str
    db_url: str
    timeout: float
    notebooks: dict[str, list[str]]  # assignment id -> notebook names, in manifest order
    # The course's nbgrader folders, when the caller has loaded them already.
    course: NbgraderCourse | None = None


class CheckRunner:
    """Starts checks, remembers them, and runs at most one grading at a time.

    Thread-safe: the handlers call it from the event loop and from worker threads alike.
    """

    def __init__(self, settings: CheckSettings, log: Any = None) -> None:
        self.settings = settings
        self.log = log
        self.checks: dict[str, Check] = {}
        self._latest: dict[str, Check] = {}  # assignment -> its most recent check
        self._done: dict[str, Future[Check]] = {}
        self._lock = threading.Lock()  # guards the dicts above
        self._grading = threading.Lock()  # one grading at a time
        # Set at interpreter exit: a running grading kills its nbgrader (and kernels) and ends.
        self._cancel = threading.Event()
        atexit.register(self._cancel.set)

    def get(self, check_id: str) -> Check:
        """The check with this id; KeyError when there is none."""
        with self._lock:
            return self.checks[check_id]

    def latest(self, assignment: str) -> Check | None:
        with self._lock:
            return self._latest.get(assignment)

    def start(self, assignment: str) -> tuple[Check, bool]:
        """Start a check of `assignment`, or return the one already running (and False)."""
        with self._lock:
            running = self._latest.get(assignment)
            if running is not None and running.active:
                return running, False
            check = Check(id=uuid.uuid4().hex, assignment=assignment)
            self.checks[check.id] = check
            self._latest[assignment] = check
            done: Future[Check] = Future()
            self._done[check.id] = done
        # A daemon thread: a server shutting down does not wait for a grading to finish.
        threading.Thread(
            target=self._run, args=(check, done), name=f"check-{assignment}", daemon=True
        ).start()
        return check, True

    async def wait(self, check_id: str) -> Check:
        """Wait until a check ends (used by tests and by shutdown)."""
        with self._lock:
            done = self._done.get(check_id)
        if done is not None:
            await asyncio.wrap_future(done)
        return self.get(check_id)

    def _run(self, check: Check, done: Future[Check]) -> None:
        s = self.settings
        try:
            with self._grading:
                check.status = "running"
                results = grade_submission(
                    s.course or s.course_root,
                    check.assignment,
                    s.student,
                    s.workspace_dir / check.assignment,
                    notebooks=list(s.notebooks.get(check.assignment, [])),
                    db_url=s.db_url or None,
                    progress=lambda step, finished, _total: self._advance(check, step, finished),
                    timeout=s.timeout,
                    cancel=self._cancel,
                )
            check.results = [r.to_json() for r in results]
            check.done = check.total
            check.status, check.step = "done", "done"
        except GradingTimeout as exc:
            check.status = "failed"
            check.message = (
                f"the check took longer than {s.timeout:g} s and was stopped during "
                f"'{exc.step}' (CourseTracker.check_timeout)"
            )
        except GradingError as exc:
            check.status = "failed"
            check.message = str(exc)
        except Exception as exc:  # a bug or an OS error: still end the check, and say what happened
            check.status = "failed"
            check.message = f"{check.step} failed unexpectedly: {type(exc).__name__}: {exc}"
            if self.log:
                self.log.exception("course tracker: check %s failed", check.id)
        finally:
            check.finished = _iso_now()
            with self._lock:
                self._done.pop(check.id, None)
            done.set_result(check)

    @staticmethod
    def _advance(check: Check, step: str, finished: int) -> None:
        check.step = step
        check.done = finished
