"""Run notebooks on this machine: N worker threads sharing one warm fork server.

The threads only drive kernels (ZMQ messages, a little JSON), so they share one interpreter
cheaply; the notebooks themselves run in forked kernel processes, in parallel on all cores.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from traitlets.config import Config

from .execute import Spare, run_job, start_spare
from .forkserver import ForkServer, ForkServerError
from .jobs import NotebookJob, NotebookOutcome
from .settings import kernel_environment

# Re-fork the waiting kernel when its server has just imported at least this many modules.
RESPAWN_AFTER_LEARNING = 50


class WarmPool:
    """One fork server kept warm for N worker slots; a dead server is replaced on the next use.

    One server, not one per worker: its imports (~3 s of CPU) are paid once, while the other
    cores already prepare notebooks, and what it learns serves every worker. Its channel is
    serial, but each request is a fork or a poll (milliseconds). Each slot keeps the kernel for
    its next notebook forked ahead.

    The pool learns the modules notebooks import beyond the server's pre-imports (see
    `forkserver`): after each notebook the server imports what kernels imported so far, and a
    replacement server starts with all of it; a batch that made a server unsafe is never sent again.
    """

    def __init__(
        self,
        workers: int,
        env: Mapping[str, str],
        preimport: Sequence[str],
        policy: Any,
        fork_tolerant_threads: Sequence[str],
        use_fork: bool = True,
    ) -> None:
        self.scratch_root = Path(tempfile.mkdtemp(prefix="nbcourse-grade-"))
        self._args = (dict(env), list(preimport), policy, list(fork_tolerant_threads))
        self.use_fork = use_fork
        self._free: queue.Queue[tuple[str, Spare | None]] = queue.Queue()
        self._all: list[ForkServer] = []
        self._lock = threading.Lock()
        self._server: ForkServer | None = None
        self._learned: set[str] = set()
        self._refused: set[str] = set()
        self._sent: set[str] = set()  # names the current server was sent
        with self._lock:
            self._server = self._start()
        for i in range(workers):
            self._free.put((f"w{i + 1}", None))

    @property
    def env(self) -> dict[str, str]:
        """The environment the server imported under: a forked kernel must be given exactly this."""
        return dict(self._args[0])

    def _start(self) -> ForkServer | None:
        """A new server (the caller holds the lock)."""
        if not self.use_fork:
            return None
        env, preimport, policy, tolerant = self._args
        learned = sorted(self._learned)
        server = ForkServer(env, preimport, self.scratch_root, policy, tolerant, learned=learned)
        self._all.append(server)
        self._sent = set(learned)
        return server

    def current_server(self) -> ForkServer | None:
        """The server, replaced first when it has died."""
        with self._lock:
            server = self._server
            if server is not None and server.proc.poll() is not None:
                server.close()
                server = self._server = self._start()
            return server

    def teach(self, server: ForkServer, imported: Sequence[str]) -> int:
        """Hand the server every module kernels imported that it has not been sent yet; how many
        modules it imported."""
        with self._lock:
            if server is not self._server:
                return 0
            self._learned.update(set(imported) - self._refused)
            todo = sorted(self._learned - self._sent)
            self._sent.update(todo)
        if not todo:
            return 0
        try:
            return len(server.preload(todo))
        except ForkServerError:
            # An import started a thread (or the server broke): it stops; its replacement
            # starts without this batch.
            with self._lock:
                self._refused.update(todo)
                self._learned.difference_update(todo)
            server.close()
            return 0

    def notes(self) -> list[str]:
        """Why kernels are plain, when they are (the first server's report)."""
        if not self.use_fork:
            return ["fork server disabled: plain kernels"]
        with self._lock:
            first = self._all[0] if self._all else None
        if first is None:
            return []
        info = first.info()
        notes = [] if info.ok else [f"fork server refused, plain kernels used: {info.reason}"]
        notes += [f"not pre-imported: {m} ({why})" for m, why in info.skipped.items()]
        return notes

    def run(self, job: NotebookJob, course_root: Path, on_start: Any = None) -> NotebookOutcome:
        name, spare = self._free.get()
        following: Spare | None = None
        server = self.current_server()
        try:
            if on_start is not None:
                on_start(name, job)
            if spare is not None and spare.server is not server:
                spare.discard()  # forked by a server that has died since
                spare = None
            if server is not None and server.usable:
                # The next notebook's kernel initializes while this one runs.
                following = self._spare(server, job, course_root)
            outcome = run_job(job, server, self.scratch_root, course_root, worker=name, spare=spare)
            imported, outcome.imported = outcome.imported, []
            if server is not None and imported and outcome.kernel == "fork":
                learned = self.teach(server, imported)
                if following is not None and learned >= RESPAWN_AFTER_LEARNING:
                    # The next kernel was forked before this lesson: fork it again (a kernel
                    # start is cheaper than those imports).
                    following.discard()
                    following = self._spare(server, job, course_root)
            return outcome
        finally:
            if following is not None and (server is None or server.proc.poll() is not None):
                following.discard()
                following = None
            self._free.put((name, following))

    def _spare(self, server: ForkServer, job: NotebookJob, course_root: Path) -> Spare | None:
        with contextlib.suppress(Exception):
            env = kernel_environment(job.kernel_env, course_root)
            return start_spare(server, self.scratch_root, env, Config(job.config))
        return None

    def close(self) -> None:
        while not self._free.empty():
            _, spare = self._free.get_nowait()
            if spare is not None:
                with contextlib.suppress(Exception):
                    spare.discard()
        with self._lock:
            servers, self._all, self._server = self._all, [], None
        for server in servers:
            with contextlib.suppress(Exception):
                server.close()
        shutil.rmtree(self.scratch_root, ignore_errors=True)


class LocalExecutor:
    """`submit(job) -> Future[NotebookOutcome]` on local worker threads."""

    def __init__(
        self,
        workers: int,
        course_root: Path,
        env: Mapping[str, str],
        preimport: Sequence[str],
        policy: Any,
        fork_tolerant_threads: Sequence[str],
        use_fork: bool = True,
    ) -> None:
        self.workers = workers
        self.course_root = Path(course_root)
        self.pool = WarmPool(workers, env, preimport, policy, fork_tolerant_threads, use_fork)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
        self.running: dict[str, str] = {}
        self.on_start: Any = None

    def _started(self, worker: str, job: NotebookJob) -> None:
        self.running[worker] = f"{job.student}/{job.notebook}"
        if self.on_start is not None:
            self.on_start(worker, job)

    def submit(self, job: NotebookJob) -> Future[NotebookOutcome]:
        return self._threads.submit(self._run, job)

    def _run(self, job: NotebookJob) -> NotebookOutcome:
        outcome = self.pool.run(job, self.course_root, self._started)
        self.running.pop(outcome.worker, None)
        return outcome

    def notes(self) -> list[str]:
        return self.pool.notes()

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.pool.close()
