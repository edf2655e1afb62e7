"""Run nbgrader's command-line verbs: the one place a subprocess of nbgrader is started.

nbgrader runs as a subprocess of the running interpreter (never whatever `nbgrader` is first on
PATH), in the course root, so the course's own `nbgrader_config.py` applies. It starts kernels of
its own, so it gets a session of its own: a timeout or a cancel stops the whole process group.
The call blocks; callers that must stay responsive (a server) run it in a thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .course import NbgraderCourse

LOG_TAIL_LINES = 30
_KEPT_LINES = 500
_POLL_SECONDS = 0.2


class NbgraderError(RuntimeError):
    """An nbgrader verb failed; `lines` is the end of its output."""

    def __init__(self, verb: str, returncode: int | None, lines: list[str], why: str | None = None) -> None:
        self.verb = verb
        self.returncode = returncode
        self.lines = lines
        reason = why or f"failed (exit code {returncode})"
        super().__init__(f"nbgrader {verb} {reason}. The end of its log:\n{self.tail}")

    @property
    def tail(self) -> str:
        return "\n".join(self.lines[-LOG_TAIL_LINES:])


class NbgraderTimeout(NbgraderError):
    """The verb ran past its deadline and was stopped."""


class NbgraderCancelled(NbgraderError):
    """The caller cancelled the run (e.g. the server is shutting down)."""


def nbgrader_command() -> list[str]:
    """The nbgrader of the running environment."""
    return [sys.executable, "-m", "nbgrader"]


def run_nbgrader(
    course: NbgraderCourse,
    verb: str,
    *args: str,
    db_url: str | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Run `nbgrader <verb> <args>` for `course`; its output lines, or NbgraderError.

    `db_url`, when given, makes nbgrader use exactly that gradebook (the one the caller reads),
    whatever the config file says. `timeout` is in seconds.
    """
    cmd = [*nbgrader_command(), verb, *args, f"--CourseDirectory.root={course.root}"]
    if db_url:
        cmd.append(f"--CourseDirectory.db_url={db_url}")
    deadline = None if timeout is None else time.monotonic() + timeout
    if deadline is not None and timeout is not None and timeout <= 0:
        raise NbgraderTimeout(verb, None, [], "was not started: no time left")
    proc = subprocess.Popen(
        cmd,
        cwd=course.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"},
    )
    lines: deque[str] = deque(maxlen=_KEPT_LINES)
    reader = threading.Thread(target=_collect, args=(proc, lines), daemon=True)
    reader.start()
    try:
        while True:
            try:
                proc.wait(timeout=_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                _kill(proc)
                raise NbgraderCancelled(verb, None, list(lines), "was cancelled")
            if deadline is not None and time.monotonic() > deadline:
                _kill(proc)
                raise NbgraderTimeout(verb, None, list(lines), f"ran longer than {timeout:g} s")
    except BaseException:
        _kill(proc)
        raise
    reader.join(timeout=5)
    if proc.returncode != 0:
        raise NbgraderError(verb, proc.returncode, list(lines))
    return list(lines)


def _collect(proc: subprocess.Popen[bytes], lines: deque[str]) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        lines.append(raw.decode("utf-8", "replace").rstrip())


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop nbgrader and every kernel it started."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)


@dataclass(frozen=True)
class RunOptions:
    """How a verb runs: which gradebook, how long it may take, who may cancel it, its environment."""

    db_url: str | None = None
    timeout: float | None = None
    cancel: threading.Event | None = None
    env: Mapping[str, str] | None = None

    def run(self, course: NbgraderCourse, verb: str, *args: str) -> list[str]:
        return run_nbgrader(
            course, verb, *args, db_url=self.db_url, timeout=self.timeout, cancel=self.cancel, env=self.env
        )


DEFAULT_RUN = RunOptions()


def generate_assignment(
    course: NbgraderCourse,
    assignment: str,
    *,
    release_root: Path | None = None,
    record_in_gradebook: bool = True,
    options: RunOptions = DEFAULT_RUN,
) -> list[str]:
    """`nbgrader generate_assignment --force`, into `release_root` (default: the course's release).

    Recording in the gradebook stores the master copy of every test cell, which autograde needs
    (and uses to restore tampered tests); a throwaway build passes `record_in_gradebook=False`.
    """
    args = [assignment, "--force"]
    if release_root is not None:
        args.append(course.release_dir_option(release_root))
    if not record_in_gradebook:
        args.append("--no-db")
    return options.run(course, "generate_assignment", *args)


def autograde(
    course: NbgraderCourse, assignment: str, student: str | None = None, options: RunOptions = DEFAULT_RUN
) -> list[str]:
    """`nbgrader autograde --force` for one student (or every submitted one)."""
    student_args = ["--student", student] if student else []
    return options.run(course, "autograde", assignment, *student_args, "--force")


def generate_feedback(
    course: NbgraderCourse, assignment: str, student: str | None = None, options: RunOptions = DEFAULT_RUN
) -> list[str]:
    """`nbgrader generate_feedback --force` for one student (or every graded one)."""
    student_args = ["--student", student] if student else []
    return options.run(course, "generate_feedback", assignment, *student_args, "--force")
