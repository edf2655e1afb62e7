""" "Check my work" jobs: the registry that runs `grade_submission` off the event loop.

A check grades the learner's workspace copy of an assignment as their submission
(`nbcourse.grading.submission.grade_submission`: copy, record in the gradebook, grade with the
course's fast grader, feedback without hidden tests, results). It runs in a thread of its own, so
the server keeps serving while notebooks execute; `Check` objects are what the REST API reports
while it runs. Checks share one lock: one grading at a time owns the gradebook and the executor.

The registry keeps one warm executor (`WarmGrader`): fork servers that imported the course's heavy
modules once, started in a background thread (at `warm_up()` or the first check, never on the
event loop) and closed at `close()` or interpreter exit. A learner's check then pays only the
cells' own compute, not kernel start and imports per notebook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from nbcourse.grading.grader import Executor, warm_executor
from nbcourse.grading.settings import default_workers, grader_settings
from nbcourse.grading.submission import (
    GradingError,
    GradingProgress,
    GradingTimeout,
    NotebookResult,
    grade_submission,
)
from nbcourse.nbgrader import NbgraderCourse

CheckStatus = Literal["queued", "running", "done", "failed"]
WAITING = "Waiting for another check to finish"
STARTING = "Waiting to start"
DONE = "Done"
STOPPED = "Stopped"


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Check:
    """One "Check my work" run (the `Check` wire type; .coord/api_contract.md "jobs")."""

    id: str
    assignment: str
    notebooks: list[str] = field(default_factory=list)  # the assignment's, in manifest order
    status: CheckStatus = "queued"
    started: str = field(default_factory=_iso_now)
    finished: str | None = None
    results: list[NotebookResult] | None = None
    message: str | None = None
    # The latest snapshot from the grading (replaced whole, so a reader never sees half of one).
    progress: GradingProgress | None = None
    waiting_for_other: bool = False
    _clock: float = field(default_factory=time.monotonic)
    _ended: float | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def step(self) -> str:
        """The step's machine name: queued, copy, prepare, grade, write_feedback, results or done
        (a failed check keeps the step it stopped in)."""
        if self.status == "done":
            return "done"
        return self.progress.step if self.progress is not None else "queued"

    @property
    def label(self) -> str:
        """What the learner reads: the step in words."""
        if self.status == "done":
            return DONE
        if self.status == "failed":
            return STOPPED
        if self.progress is None:
            return WAITING if self.waiting_for_other else STARTING
        return self.progress.label

    @property
    def elapsed(self) -> float:
        return round((self._ended or time.monotonic()) - self._clock, 1)

    def end(self, status: CheckStatus) -> None:
        self._ended = time.monotonic()
        self.finished = _iso_now()
        self.status = status

    def to_json(self) -> dict[str, Any]:
        progress = self.progress
        total = progress.total if progress is not None else 4 + len(self.notebooks)
        done = total if self.status == "done" else progress.done if progress is not None else 0
        rows: list[dict[str, Any]] = []
        for n in progress.notebooks if progress is not None else ():
            rows.append({"notebook": n.notebook, "status": n.status})
            if n.seconds is not None:
                rows[-1]["seconds"] = n.seconds
        if progress is None:
            rows = [{"notebook": nb, "status": "waiting"} for nb in self.notebooks]
        out: dict[str, Any] = {
            "id": self.id,
            "assignment": self.assignment,
            "status": self.status,
            "step": self.label,
            "step_id": self.step,
            "done": done,
            "total": total,
            "started": self.started,
            "started_at": self.started,
            "elapsed": self.elapsed,
            "running": progress.running if progress is not None and self.active else [],
            "notebooks": rows,
        }
        if self.finished is not None:
            out["finished"] = self.finished
        if self.results is not None:
            out["results"] = [r.to_json() for r in self.results]
        if self.message is not None:
            out["message"] = self.message
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


def checks_executor(course: NbgraderCourse) -> Executor:
    """A warm executor for one learner's checks: fork servers that pre-import what every
    assignment of the source imports, no more workers than the largest assignment has notebooks
    (a check grades one submission), and ready when returned (the first server's imports done)."""
    assignments = course.assignments_in_source()
    largest = max((len(list(course.source_dir(a).glob("*.ipynb"))) for a in assignments), default=1)
    workers = max(1, min(default_workers(grader_settings(course.config), None), largest))
    executor = warm_executor(course, assignments, workers)
    # While the fork servers import: what the server itself imports at its first grading.
    from nbgrader.converters import Autograde, GenerateFeedback  # noqa: F401

    executor.notes()  # waits until the first fork server has imported the modules
    return executor


class WarmGrader:
    """One executor, built once in a background thread; `get()` waits for it."""

    def __init__(self, build: Callable[[], Executor], log: Any = None) -> None:
        self._build = build
        self._log = log
        self._lock = threading.Lock()
        self._future: Future[Executor] | None = None
        self._closed = False

    def start(self) -> None:
        """Start building the executor unless it is built or being built (returns at once)."""
        with self._lock:
            if self._future is not None or self._closed:
                return
            future: Future[Executor] = Future()
            self._future = future
        threading.Thread(target=self._run, args=(future,), name="check-warm-up", daemon=True).start()

    def _run(self, future: Future[Executor]) -> None:
        try:
            executor = self._build()
        except Exception as exc:
            with self._lock:
                self._future = None  # the next check tries again
            if self._log:
                self._log.warning("course tracker: the grader could not start: %s", exc)
            future.set_exception(exc)
            return
        with self._lock:
            closed = self._closed
        if closed:  # closed while it was starting: nobody will close it later
            executor.close()
        future.set_result(executor)

    def get(self) -> Executor:
        self.start()
        with self._lock:
            future = None if self._closed else self._future
        if future is None:
            raise RuntimeError("the grader is stopped: the server is shutting down")
        return future.result()

    @property
    def ready(self) -> bool:
        future = self._future
        return future is not None and future.done() and future.exception() is None

    def close(self) -> None:
        with self._lock:
            self._closed, future = True, self._future
        if future is not None and future.done() and future.exception() is None:
            with contextlib.suppress(Exception):
                future.result().close()


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
        self._course: NbgraderCourse | None = settings.course
        self.grader = WarmGrader(lambda: checks_executor(self.course()), log)
        # Set at interpreter exit: a running grading stops at its next step; kernels are killed.
        self._cancel = threading.Event()
        atexit.register(self.close)

    def course(self) -> NbgraderCourse:
        if self._course is None:
            self._course = NbgraderCourse.load(self.settings.course_root)
        return self._course

    def warm_up(self) -> None:
        """Start the grader's fork servers in the background (at server start): returns at once."""
        self.grader.start()

    def close(self) -> None:
        """Stop the grader (server shutdown): a running check ends, its kernels are killed."""
        self._cancel.set()
        self.grader.close()

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
            check = Check(
                id=uuid.uuid4().hex,
                assignment=assignment,
                notebooks=list(self.settings.notebooks.get(assignment, [])),
                waiting_for_other=any(c.active for c in self._latest.values()),
            )
            self.checks[check.id] = check
            self._latest[assignment] = check
            done: Future[Check] = Future()
            self._done[check.id] = done
        self.grader.start()
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
                    self.course(),
                    check.assignment,
                    s.student,
                    s.workspace_dir / check.assignment,
                    notebooks=check.notebooks,
                    db_url=s.db_url or None,
                    progress=lambda state: setattr(check, "progress", state),
                    timeout=s.timeout,
                    cancel=self._cancel,
                    executor=self.grader.get,
                )
            check.results = results
            check.end("done")
        except GradingTimeout as exc:
            during = check.progress.label if check.progress is not None else exc.step
            check.message = (
                f"the check took longer than {s.timeout:g} s and was stopped during "
                f"'{during}' (CourseTracker.check_timeout)"
            )
            check.end("failed")
        except GradingError as exc:
            check.message = str(exc)
            check.end("failed")
        except Exception as exc:  # a bug or an OS error: still end the check, and say what happened
            check.message = f"'{check.label}' failed unexpectedly: {type(exc).__name__}: {exc}"
            check.end("failed")
            if self.log:
                self.log.exception("course tracker: check %s failed", check.id)
        finally:
            if check.active:  # not ended above (an exception the handlers above did not expect)
                check.end("failed")
            with self._lock:
                self._done.pop(check.id, None)
            done.set_result(check)
