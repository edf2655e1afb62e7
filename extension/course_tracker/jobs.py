""" "Check my work": grade the learner's workspace copy of an assignment with stock nbgrader.

A check does what an instructor would do with a submission, on the learner's own machine:

1. copy `workspace/<assignment>/*.ipynb` to `submitted/<student>/<assignment>/` (nbgrader's layout,
   with a `timestamp.txt`);
2. make sure the gradebook knows the assignment's current source (`nbgrader generate_assignment`
   into a scratch release folder, when it does not yet or the tests changed: it records the
   source's cells, hidden tests included);
3. `nbgrader autograde <assignment> --student <student> --force`;
4. `nbgrader generate_feedback <assignment> --student <student> --force`;
5. read the per-cell scores back from the gradebook.

nbgrader runs as a subprocess (asyncio, so the server keeps serving while notebooks execute), in
the course root so the course's own `nbgrader_config.py` applies. Checks share one lock: two
autogrades writing one SQLite gradebook at once would fail with "database is locked".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from .results import GradebookSource, NotebookCache, cells_by_grade_id

CheckStatus = Literal["queued", "running", "done", "failed"]
STEPS = ("copy", "prepare", "autograde", "generate_feedback", "results")
LOG_TAIL_LINES = 30


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class CheckFailed(Exception):
    """A step of a check failed; the message is what the learner sees."""


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


def nbgrader_timestamp(when: datetime) -> str:
    """A timestamp in the format nbgrader writes to timestamp.txt (and parses back)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def copy_submission(workspace: Path, submitted: Path, when: datetime) -> list[str]:
    """Replace `submitted` with the workspace's notebooks; returns the notebook names copied."""
    notebooks = sorted(workspace.glob("*.ipynb"))
    if not notebooks:
        raise CheckFailed(f"no notebooks in {workspace} to check")
    if submitted.exists():
        # A stale notebook from an earlier check must not be graded as part of this one.
        shutil.rmtree(submitted)
    submitted.mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy2(notebook, submitted / notebook.name)
    (submitted / "timestamp.txt").write_text(nbgrader_timestamp(when) + "\n", encoding="utf-8")
    return [n.stem for n in notebooks]


class CheckRunner:
    """Starts checks, remembers them, and runs at most one nbgrader job at a time."""

    def __init__(self, settings: CheckSettings, log: Any = None) -> None:
        self.settings = settings
        self.log = log
        self.checks: dict[str, Check] = {}
        self.latest: dict[str, Check] = {}  # assignment -> its most recent check
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._nbgrader_lock: asyncio.Lock | None = None

    def get(self, check_id: str) -> Check:
        """The check with this id; KeyError when there is none."""
        return self.checks[check_id]

    def start(self, assignment: str) -> tuple[Check, bool]:
        """Start a check of `assignment`, or return the one already running (and False)."""
        running = self.latest.get(assignment)
        if running is not None and running.active:
            return running, False
        check = Check(id=uuid.uuid4().hex, assignment=assignment)
        self.checks[check.id] = check
        self.latest[assignment] = check
        task = asyncio.get_running_loop().create_task(self._run(check))
        self._tasks[check.id] = task
        task.add_done_callback(lambda _t, cid=check.id: self._tasks.pop(cid, None))
        return check, True

    async def wait(self, check_id: str) -> Check:
        """Wait until a check ends (used by tests and by shutdown)."""
        task = self._tasks.get(check_id)
        if task is not None:
            await task
        return self.checks[check_id]

    async def _run(self, check: Check) -> None:
        if self._nbgrader_lock is None:
            self._nbgrader_lock = asyncio.Lock()
        try:
            async with self._nbgrader_lock:
                check.status = "running"
                await asyncio.wait_for(self._steps(check), timeout=self.settings.timeout)
            check.status = "done"
            check.step = "done"
        except asyncio.TimeoutError:
            check.status = "failed"
            check.message = (
                f"the check took longer than {self.settings.timeout:g} s and was stopped during "
                f"'{check.step}' (CourseTracker.check_timeout)"
            )
        except CheckFailed as exc:
            check.status = "failed"
            check.message = str(exc)
        except Exception as exc:  # a bug or an OS error: still end the check, and say what happened
            check.status = "failed"
            check.message = f"{check.step} failed unexpectedly: {type(exc).__name__}: {exc}"
            if self.log:
                self.log.exception("course tracker: check %s failed", check.id)
        finally:
            check.finished = _iso_now()

    def _advance(self, check: Check, step: str) -> None:
        check.step = step
        check.done = STEPS.index(step)

    async def _steps(self, check: Check) -> None:
        s = self.settings
        assignment = check.assignment
        self._advance(check, "copy")
        workspace = s.workspace_dir / assignment
        if not workspace.is_dir():
            raise CheckFailed(
                f"there is no workspace folder {workspace}: open the assignment's notebooks "
                "from your workspace (the course setup copies them there) and try again"
            )
        submitted = s.course_root / "submitted" / s.student / assignment
        await asyncio.to_thread(copy_submission, workspace, submitted, datetime.now(timezone.utc))

        self._advance(check, "prepare")
        if not await asyncio.to_thread(self._gradebook_up_to_date, assignment):
            await self._prepare_gradebook(assignment)

        self._advance(check, "autograde")
        await self._nbgrader("autograde", assignment, "--student", s.student, "--force")

        self._advance(check, "generate_feedback")
        await self._nbgrader("generate_feedback", assignment, "--student", s.student, "--force")

        self._advance(check, "results")
        check.results = await asyncio.to_thread(self._read_results, assignment)
        check.done = check.total

    def _gradebook_up_to_date(self, assignment: str) -> bool:
        """The gradebook knows the assignment, every notebook, and the source's current tests.

        nbgrader grades with the test cells it recorded at generate_assignment time, so after a
        course update (a fixed hidden test) the gradebook must learn the new source first. Test
        and locked cells are compared by nbgrader's own checksum; solution cells are recorded as
        their release stubs, so for those only their presence is compared.
        """
        from nbgrader.api import Gradebook, MissingEntry
        from nbgrader.utils import compute_checksum

        db_file = GradebookSource(self.settings.db_url, self.settings.course_root, "").sqlite_file
        if db_file is not None and not db_file.is_file():
            return False
        source_dir = self.settings.course_root / "source" / assignment
        with Gradebook(self.settings.db_url) as gb:
            try:
                recorded = {nb.name: nb for nb in gb.find_assignment(assignment).notebooks}
            except MissingEntry:
                return False
            for name in self.settings.notebooks.get(assignment, []):
                if name not in recorded:
                    return False
                source = NotebookCache().read(source_dir / f"{name}.ipynb")
                if source is None:
                    continue  # no source on this machine: the gradebook's record is all there is
                checksums = {cell.name: cell.checksum for cell in recorded[name].source_cells}
                for grade_id, cell in cells_by_grade_id(source).items():
                    meta = cell.metadata.get("nbgrader", {})
                    if grade_id not in checksums:
                        return False
                    if not meta.get("solution") and compute_checksum(cell) != checksums[grade_id]:
                        return False
        return True

    async def _prepare_gradebook(self, assignment: str) -> None:
        source = self.settings.course_root / "source" / assignment
        if not source.is_dir():
            raise CheckFailed(
                f"cannot check {assignment}: its source folder {source} (with the tests) is "
                "missing, so the gradebook cannot learn how to grade it"
            )
        # generate_assignment records the source's cells in the gradebook; its release output goes
        # to a scratch folder so the course's committed release/ is never rewritten.
        with tempfile.TemporaryDirectory(prefix="course-tracker-release-") as scratch:
            await self._nbgrader(
                "generate_assignment",
                assignment,
                "--force",
                f"--CourseDirectory.release_directory={scratch}",
            )

    def _base_args(self) -> list[str]:
        s = self.settings
        args = [f"--CourseDirectory.root={s.course_root}"]
        if s.db_url:
            # Grade into exactly the database the tracker reads, even when configured apart.
            args.append(f"--CourseDirectory.db_url={s.db_url}")
        return args

    async def _nbgrader(self, command: str, *args: str) -> None:
        cmd: Sequence[str] = [sys.executable, "-m", "nbgrader", command, *args, *self._base_args()]
        output = await run_subprocess(cmd, cwd=self.settings.course_root)
        if output.returncode != 0:
            tail = "\n".join(output.lines[-LOG_TAIL_LINES:])
            raise CheckFailed(
                f"nbgrader {command} failed (exit code {output.returncode}). The end of its log:\n{tail}"
            )

    def _read_results(self, assignment: str) -> list[dict[str, Any]]:
        s = self.settings
        source = GradebookSource(s.db_url, s.course_root, s.student)
        try:
            grades = source.read([assignment]) or {}
        finally:
            source.close()
        order = s.notebooks.get(assignment, [])
        found = sorted(
            (g for (a, _), g in grades.items() if a == assignment),
            key=lambda g: (order.index(g.notebook) if g.notebook in order else len(order), g.notebook),
        )
        if not found:
            raise CheckFailed(
                f"nbgrader finished but the gradebook has no grades for {s.student}/{assignment}"
            )
        return [
            {
                "notebook": g.notebook,
                "score": g.score,
                "max_score": g.max_score,
                "cells": [
                    {"grade_id": c.grade_id, "score": c.score, "max_score": c.max_score}
                    for c in sorted(g.cells.values(), key=self._cell_order(assignment, g.notebook))
                ],
            }
            for g in found
        ]

    def _cell_order(self, assignment: str, notebook: str) -> Any:
        """Sort key putting cells in the order the learner sees them in the notebook.

        The gradebook does not record cell positions, so they come from the source notebook
        (or the release when the source is not on this machine).
        """
        position: dict[str, int] = {}
        for folder in ("source", "release"):
            nb = NotebookCache().read(self.settings.course_root / folder / assignment / f"{notebook}.ipynb")
            if nb is not None:
                position = {grade_id: i for i, grade_id in enumerate(cells_by_grade_id(nb))}
                break
        return lambda cell: (position.get(cell.grade_id, len(position)), cell.grade_id)


@dataclass
class ProcessOutput:
    returncode: int
    lines: list[str]


async def run_subprocess(cmd: Sequence[str], cwd: Path) -> ProcessOutput:
    """Run a command without blocking the event loop; kill its whole process group on cancel.

    nbgrader starts kernels of its own; a timeout must stop them too, hence the new session.
    """
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        cwd=str(cwd),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: deque[str] = deque(maxlen=500)
    try:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip())
        returncode = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    return ProcessOutput(returncode, list(lines))
