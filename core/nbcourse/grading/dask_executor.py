"""Run notebooks on a Dask cluster: `course grade --executor dask [--scheduler tcp://host:port]`.

Without a scheduler address the executor starts a `LocalCluster` of `workers` processes with one
thread each; with one it connects to that cluster. Either way the client side stays the only
writer (grader.py): a task carries one `NotebookJob` (the sanitized notebook, the assignment's
declared files, the config, the kernel environment) and returns its `NotebookOutcome`, so a worker
needs the course's locked environment and its data/ folder, but no filesystem shared with the
client. The declared files are scattered once and shared by every task.

Each worker's course root (what `{course_root}` in `c.CourseGrader.kernel_env` becomes there) is:
1. `$NBCOURSE_WORKER_ROOT` in the worker's environment, when set;
2. the client's course root, for the LocalCluster this executor starts (same machine);
3. otherwise the worker process's current directory (start `dask worker` in the course root).
Where the root is not the client's, the sandbox policy is made on the worker for its own root and
machine (`hooks.policy_for`), as the machine that runs the kernels is the one to confine them.
The kernel environment is the client's `kernel_env` with only `{course_root}` resolved on the
worker: the course's config reads COURSE_DATA_DIR on the client, so leave it unset there (the data
is then `{course_root}/data` on each worker) or set it to a path that holds on every worker.

Dask worker processes are daemonic and cannot start `multiprocessing` children, so nothing here
uses it: a `WorkerPlugin` starts the worker's fork server (a subprocess, via local.WarmPool, shared
by the worker's threads) at registration and closes it at teardown; a dead server is replaced on the
next notebook, and where forking is unusable the kernels are plain, as on the local executor.

Tasks are submitted with `pure=False` (two runs of one notebook are two runs) and `retries=0`:
`run_job` never raises for a student's notebook (a crash, a timeout, a dead kernel are scored),
so an exception from a task is the worker's own failure and is reported, not retried. A worker
process lost mid-notebook is re-run elsewhere up to the scheduler's
`distributed.scheduler.allowed-failures` times (Dask's default, 3) and then reported as failed;
kernels run in processes of their own under the sandbox's limits, so a student's notebook cannot
take a worker down with it short of the machine's OOM killer choosing the worker.

`on_start` is called on the client when a worker starts a notebook (a Dask event on a topic of
this executor's own), from Dask's client thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, get_worker

from . import hooks
from .jobs import NotebookJob, NotebookOutcome
from .local import WarmPool
from .settings import kernel_environment

ROOT_ENV = "NBCOURSE_WORKER_ROOT"


def worker_root(client_root: Path | None) -> Path:
    """This worker's course root (see the module doc for the order)."""
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    if client_root is not None:
        return Path(client_root)
    return Path.cwd().resolve()


class GraderPlugin(WorkerPlugin):  # type: ignore[misc]
    """A worker's warm fork servers, started when the plugin is registered, closed at teardown."""

    def __init__(
        self,
        preimport: Sequence[str],
        extras: dict[str, str],
        policy: Any,
        fork_tolerant_threads: Sequence[str],
        use_fork: bool,
        course_root: Path | None,
        shared_root: bool,
        config: Any,
    ) -> None:
        self.preimport = list(preimport)
        self.extras = dict(extras)
        self.policy = policy
        self.tolerant = list(fork_tolerant_threads)
        self.use_fork = use_fork
        self.course_root = Path(course_root) if course_root is not None else None
        self.shared_root = shared_root  # True: the client's root is this worker's (LocalCluster)
        self.config = config
        self.pool: WarmPool | None = None
        self.root: Path | None = None

    async def setup(self, worker: Any) -> None:
        # In a thread: the sandbox probes and the servers' start would stall the worker's loop.
        await asyncio.get_running_loop().run_in_executor(None, self._start, worker.state.nthreads)

    def _start(self, nthreads: int) -> None:
        self.root = worker_root(self.course_root if self.shared_root else None)
        if not self.root.is_dir():  # raised in the client by register_plugin: the run does not start
            raise RuntimeError(f"the worker's course root {self.root} is not a folder (see ${ROOT_ENV})")
        policy = self.policy
        if self.config is not None and self.root != self.course_root:
            policy = hooks.policy_for(self.root, self.config)
        env = kernel_environment(self.extras, self.root)
        self.pool = WarmPool(nthreads, env, self.preimport, policy, self.tolerant, self.use_fork)

    def teardown(self, worker: Any) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()


def _plugin(name: str) -> GraderPlugin:
    plugin = get_worker().plugins.get(name)
    if not isinstance(plugin, GraderPlugin) or plugin.pool is None or plugin.root is None:
        raise RuntimeError(f"this Dask worker has no grader plugin {name!r} (it joined while closing?)")
    return plugin


def run_on_worker(job: NotebookJob, files: dict[str, bytes], name: str, topic: str) -> NotebookOutcome:
    """The task: run one notebook on this worker's warm pool."""
    plugin = _plugin(name)
    worker = get_worker()
    label = str(worker.name)

    def started(slot: str, job: NotebookJob) -> None:
        # Not under "worker": the scheduler overwrites that key with the worker's address.
        worker.log_event(topic, {"by": f"{label}/{slot}", "student": job.student, "notebook": job.notebook})

    assert plugin.pool is not None and plugin.root is not None
    outcome = plugin.pool.run(dataclasses.replace(job, files=files), plugin.root, started)
    outcome.worker = f"{label}/{outcome.worker}"
    return outcome


def worker_notes(name: str, dask_worker: Any = None) -> list[str]:
    """What this worker's pool has to say (fork server refused, modules not pre-imported)."""
    plugin = dask_worker.plugins.get(name) if dask_worker is not None else None
    pool = getattr(plugin, "pool", None)
    return pool.notes() if pool is not None else []


class DaskExecutor:
    """`submit(job) -> Future[NotebookOutcome]` on a Dask cluster (see the module doc)."""

    def __init__(
        self,
        workers: int,
        scheduler: str | None,
        preimport: Sequence[str],
        extras: dict[str, str],
        policy: Any,
        fork_tolerant_threads: Sequence[str],
        use_fork: bool = True,
        course_root: Path | None = None,
        config: Any = None,
    ) -> None:
        self.on_start: Any = None
        self.cluster: LocalCluster | None = None
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=max(1, workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # The scheduler's HTTP server (health, metrics) even without a dashboard: on a
                # free local port, not on 8787 where another cluster may already be.
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                host="127.0.0.1",
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)
        self.address = str(self.client.scheduler.address)
        tag = uuid.uuid4().hex[:8]
        self.plugin_name = f"nbcourse-grader-{tag}"
        self.topic = f"nbcourse-grade-{tag}"
        self._pending: dict[tuple[str, str], NotebookJob] = {}
        self._dask: dict[str, Any] = {}  # key -> dask future, kept until done (else Dask forgets it)
        self._lock = threading.Lock()
        self._files: tuple[dict[str, bytes], Any] | None = None
        try:
            if scheduler is not None:
                self.client.wait_for_workers(1, timeout=60)
            self.client.subscribe_topic(self.topic, self._event)
            self.client.register_plugin(
                GraderPlugin(
                    preimport,
                    extras,
                    policy,
                    fork_tolerant_threads,
                    use_fork,
                    course_root,
                    shared_root=scheduler is None,
                    config=config,
                ),
                name=self.plugin_name,
            )
        except BaseException:
            self.close()
            raise
        self.workers = max(1, sum(self.client.nthreads().values()))

    def _event(self, event: tuple[float, dict[str, str]]) -> None:
        msg = event[1]
        with self._lock:
            job = self._pending.get((msg["student"], msg["notebook"]))
        if job is not None and self.on_start is not None:
            self.on_start(msg["by"], job)

    def _shared_files(self, files: dict[str, bytes]) -> Any:
        # The writer hands every job the same dict: send it to the cluster once.
        if not files:
            return files
        if self._files is None or self._files[0] is not files:
            # In a list: a dict given to scatter would be scattered value by value.
            self._files = (files, self.client.scatter([files], hash=False)[0])
        return self._files[1]

    def submit(self, job: NotebookJob) -> Future[NotebookOutcome]:
        result: Future[NotebookOutcome] = Future()
        result.set_running_or_notify_cancel()
        light = dataclasses.replace(job, files={})
        key = f"grade-{job.student}-{job.notebook}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._pending[job.key] = job
        future = self.client.submit(
            run_on_worker,
            light,
            self._shared_files(job.files),
            self.plugin_name,
            self.topic,
            key=key,
            pure=False,
            retries=0,
        )
        with self._lock:
            self._dask[key] = future

        def done(f: Any) -> None:
            with self._lock:
                self._dask.pop(key, None)
                self._pending.pop(job.key, None)
            try:
                result.set_result(f.result())
            except BaseException as exc:  # the worker's failure (or a cancel), never the student's
                result.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))

        future.add_done_callback(done)
        return result

    def notes(self) -> list[str]:
        notes = [f"dask: {len(self.client.nthreads())} workers, {self.workers} threads at {self.address}"]
        with contextlib.suppress(Exception):
            seen: dict[str, None] = {}
            for worker_said in self.client.run(worker_notes, self.plugin_name, wait=True).values():
                for note in worker_said:
                    seen.setdefault(note, None)
            notes += list(seen)
        return notes

    def close(self) -> None:
        with self._lock:
            futures = list(self._dask.values())
        with contextlib.suppress(Exception):
            self.client.cancel(futures, force=True)
        # Unregistering runs the plugin's teardown: a cluster this executor did not start keeps
        # its workers, and they must not keep this run's fork servers.
        with contextlib.suppress(Exception):
            self.client.unregister_worker_plugin(self.plugin_name)
        with contextlib.suppress(Exception):
            self.client.unsubscribe_topic(self.topic)
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
