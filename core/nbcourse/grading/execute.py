"""The worker's half of autograde: run nbgrader's execute-stage preprocessors on one notebook.

nbgrader's `Autograde` runs, after sanitizing, `Execute, IgnorePattern, ClearMetadataPreprocessor,
LimitOutput` and then the gradebook ones (`SaveAutoGrades, AssignLatePenalties, CheckCellMetadata`).
The worker runs the first group, exactly those classes with the course's config, and hands the
notebook back; the writer runs the rest. The only change is the kernel `Execute` is given.

Each notebook runs in a scratch folder of its own holding only the notebook and the assignment's
declared files. A kernel that dies (crash, `os._exit`, killed for running past the notebook's
time limit) does not stop anything: the cell that was running and every later grade cell get an
error output saying why, so they score zero exactly as a failing test would, and the earlier
cells keep their scores.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from traitlets.config import Config

from . import tamper
from .forkserver import KERNEL_LOG, ForkServer, ForkServerError
from .jobs import NotebookJob, NotebookOutcome
from .settings import kernel_environment
from .stages import worker_preprocessors

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _is_grade_cell(cell: NotebookNode) -> bool:
    return cell.get("cell_type") == "code" and bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def cells_compute_seconds(nb: NotebookNode) -> float:
    """Sum of each cell's execute_input -> execute_reply time (nbclient records them)."""
    from dateutil.parser import isoparse

    total = 0.0
    for cell in nb.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if start and end:
            with contextlib.suppress(ValueError, TypeError):
                total += (isoparse(end) - isoparse(start)).total_seconds()
    return total


class _KernelStep:
    """nbgrader's Execute preprocessor, given a kernel manager and a dead-kernel safety net."""

    def __init__(
        self, execute: Any, make_km: Callable[[], Any], deadline: float, guarded: bool, forked: bool = False
    ) -> None:
        self.execute = execute
        self.make_km = make_km
        self.deadline = deadline
        # Only sandboxed kernels run `tamper.install` first; a plain kernel has no guard to ask.
        self.guarded = guarded
        self.flags: list[str] = []
        self.current = 0
        self.problem: str | None = None
        self.compute = 0.0
        self.km: Any = None
        # A forked kernel reports the modules its cells imported, for its server to learn.
        self.forked = forked
        self.imported: list[str] = []
        original = execute.preprocess_cell

        def tracked(cell: NotebookNode, resources: Any, index: int) -> Any:
            self.current = index
            return original(cell, resources, index)

        execute.preprocess_cell = tracked

    @property
    def enabled(self) -> bool:
        return bool(self.execute.enabled)

    def __call__(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        if not self.enabled:
            return nb, resources
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        self.km = self.make_km()
        guard_log = tamper.guard(self.execute) if self.guarded else None
        timer = threading.Timer(self.deadline, self._overtime)
        timer.daemon = True
        timer.start()
        try:
            nb, resources = self.execute.preprocess(nb, resources, km=self.km)
            if self.forked and self.problem is None:
                self.imported = imported_since_fork(self.execute)
        except DeadKernelError as exc:
            reason = self.problem or f"the kernel died ({exc})"
            self.problem = reason
            self._fail_rest(nb, reason)
        except CellTimeoutError:
            # The cell ran past its time limit and the kernel did not answer the interrupt (it
            # ignores SIGINT, or a bomb keeps it busy): stop it; this cell and the later tests
            # score 0, the earlier ones keep their scores.
            reason = (
                self.problem or "a cell ran past its time limit and the kernel did not stop when interrupted"
            )
            self.problem = reason
            kill_kernel(self.km)
            self._fail_rest(nb, reason)
        finally:
            timer.cancel()
            if guard_log is not None:
                self.flags = list(dict.fromkeys(guard_log.flags))
        self.compute = cells_compute_seconds(nb)
        return nb, resources

    def _overtime(self) -> None:
        self.problem = f"the notebook ran longer than {self.deadline:g} s and was stopped"
        kill_kernel(self.km)

    def _fail_rest(self, nb: NotebookNode, reason: str) -> None:
        for index, cell in enumerate(nb.cells):
            if index < self.current or cell.get("cell_type") != "code":
                continue
            if index == self.current or _is_grade_cell(cell):
                cell.setdefault("outputs", []).append(
                    nbformat.v4.new_output(
                        "error", ename="KernelDied", evalue=reason, traceback=[f"KernelDied: {reason}"]
                    )
                )


def imported_since_fork(execute: Any) -> list[str]:
    """The modules the notebook's cells imported (the kernel is still up: nbclient leaves a kernel
    it was handed running); [] when it does not answer within a second."""
    from jupyter_core.utils import run_sync

    from .forkserver import MAX_REPORTED_MODULES, since_fork_expr

    with contextlib.suppress(Exception):
        text = run_sync(tamper.silent)(execute, since_fork_expr(), 1.0, tamper.expression_text)
        if text:
            return text.splitlines()[:MAX_REPORTED_MODULES]
    return []


def kill_kernel(km: Any) -> None:
    """SIGKILL the kernel's whole process tree (forked: via its server; plain: its process group)."""
    if km is None or km.provisioner is None:
        return
    process = getattr(km.provisioner, "process", None)
    with contextlib.suppress(Exception):
        if hasattr(process, "server"):
            process.kill()
        else:
            import os
            import signal

            pgid = km.provisioner.pgid
            if pgid and pgid != os.getpgid(0):
                os.killpg(pgid, signal.SIGKILL)
            elif process is not None:
                process.kill()


def shutdown_kernel(km: Any) -> None:
    if km is None:
        return
    kill_kernel(km)
    with contextlib.suppress(Exception):
        from jupyter_core.utils import run_sync

        run_sync(km.shutdown_kernel)(now=True)


@dataclass
class Spare:
    """A forked kernel started ahead of its notebook, initializing while the previous one runs."""

    km: Any
    scratch: Path
    env: dict[str, str]
    kernel_name: str
    arguments: list[str]

    @property
    def server(self) -> ForkServer | None:
        return getattr(self.km, "_server", None)

    def alive(self) -> bool:
        return self.km.provisioner is not None and self.km.provisioner.process.poll() is None

    def discard(self) -> None:
        shutdown_kernel(self.km)
        shutil.rmtree(self.scratch, ignore_errors=True)


def kernel_arguments(config: Config) -> list[str]:
    """The extra kernel arguments nbgrader's Execute (through nbclient) starts a kernel with."""
    from nbgrader.preprocessors import Execute

    execute = Execute(config=config)
    arguments = list(execute.extra_arguments)
    if execute.ipython_hist_file:
        arguments.append(f"--HistoryManager.hist_file={execute.ipython_hist_file}")
    return arguments


def new_scratch(scratch_root: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=_SAFE.sub("_", name)[:40] + "-", dir=scratch_root))


def forked_kernel_manager(server: ForkServer, scratch: Path, env: dict[str, str], kernel_name: str) -> Any:
    from .kernels import ForkKernelManager

    km = ForkKernelManager(
        kernel_name=kernel_name, kernel_env=env, server=server, transport="ipc", ip=str(scratch / "k")
    )
    km.connection_file = str(scratch / "kernel.json")
    return km


def start_spare(
    server: ForkServer, scratch_root: Path, env: dict[str, str], config: Config, kernel_name: str = "python3"
) -> Spare:
    """Fork a kernel now for a notebook that comes later (the fork is ~20 ms of this thread's time)."""
    from jupyter_core.utils import run_sync

    scratch = new_scratch(scratch_root, "kernel")
    arguments = kernel_arguments(config)
    km = forked_kernel_manager(server, scratch, env, kernel_name)
    run_sync(km.start_kernel)(extra_arguments=arguments, cwd=str(scratch))
    return Spare(km, scratch, env, kernel_name, arguments)


def run_job(
    job: NotebookJob,
    server: ForkServer | None,
    scratch_root: Path,
    course_root: Path,
    worker: str = "",
    spare: Spare | None = None,
) -> NotebookOutcome:
    """Run one notebook's execute stage; never raises for a student's notebook.

    `spare`, a kernel forked ahead of time, is used when it still runs and matches the job (same
    environment, kernel and arguments); otherwise it is discarded and a kernel starts now.
    """
    started = time.monotonic()
    outcome = NotebookOutcome(job.student, job.notebook, None, worker=worker)
    step: _KernelStep | None = None
    env = kernel_environment(job.kernel_env, course_root)
    use_fork = server is not None and server.usable
    if spare is not None and not (
        use_fork
        and spare.alive()
        and spare.env == env
        and spare.kernel_name == job_kernel_name(job)
        and spare.arguments == kernel_arguments(Config(job.config))
    ):
        spare.discard()
        spare = None
    scratch = spare.scratch if spare is not None else new_scratch(scratch_root, job.notebook)
    try:
        for rel, data in job.files.items():
            target = scratch / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (scratch / f"{job.notebook}.ipynb").write_text(job.sanitized, encoding="utf-8")
        outcome.kernel = "fork" if use_fork else "plain"
        step, output = _execute(job, scratch, env, server if use_fork else None, spare)
        outcome.output = output
        outcome.problem = step.problem
        outcome.compute = step.compute
        outcome.flags = step.flags
        outcome.imported = step.imported
    except ForkServerError as exc:
        # The server broke (not the student's notebook): the same notebook once more, plainly.
        outcome.notes.append(f"fork server failed ({exc}); graded with a plain kernel")
        with contextlib.suppress(Exception):
            shutdown_kernel(step.km if step else None)
        try:
            step, outcome.output = _execute(job, scratch, env, None, None)
            outcome.kernel, outcome.problem, outcome.compute = "plain", step.problem, step.compute
        except Exception as exc2:
            outcome.problem = f"could not run: {type(exc2).__name__}: {exc2}"
    except Exception as exc:
        outcome.problem = f"could not run: {type(exc).__name__}: {exc}{_kernel_log_tail(scratch)}"
    finally:
        shutdown_kernel(step.km if step else None)
        if spare is not None:
            shutdown_kernel(spare.km)
        shutil.rmtree(scratch, ignore_errors=True)
        outcome.seconds = time.monotonic() - started
    return outcome


def _kernel_log_tail(scratch: Path) -> str:
    """The last line a dead kernel wrote (its own stderr, e.g. why the sandbox refused it)."""
    try:
        lines = [
            line for line in (scratch / KERNEL_LOG).read_text(errors="replace").splitlines() if line.strip()
        ]
    except OSError:
        return ""
    return f" (kernel log: {lines[-1][:300]})" if lines else ""


def _execute(
    job: NotebookJob, scratch: Path, env: dict[str, str], server: ForkServer | None, spare: Spare | None
) -> tuple[_KernelStep, str]:
    from nbconvert.exporters import NotebookExporter

    from .kernels import EnvKernelManager

    config = Config(job.config)
    config.Exporter.default_preprocessors = []  # as nbgrader's BaseConverter does
    exporter = NotebookExporter(config=config)
    exporter._preprocessors = []
    step: _KernelStep | None = None
    for cls in worker_preprocessors(config):
        pp = cls(parent=exporter)
        if hasattr(pp, "kernel_manager_class") and hasattr(pp, "preprocess_cell"):

            def make_km(pp: Any = pp) -> Any:
                if spare is not None:
                    return spare.km
                kernel_name = pp.kernel_name or job_kernel_name(job)
                if server is not None:
                    return forked_kernel_manager(server, scratch, env, kernel_name)
                return EnvKernelManager(kernel_name=kernel_name, kernel_env=env)

            guarded = server is not None and getattr(server, "policy", None) is not None
            step = _KernelStep(pp, make_km, job.timeout, guarded, forked=server is not None)
            exporter.register_preprocessor(step)
        else:
            exporter.register_preprocessor(pp)
    if step is None:
        raise RuntimeError("the autograde preprocessors have no Execute step")
    nb = nbformat.reads(job.sanitized, as_version=4)
    resources = {
        "unique_key": job.notebook,
        "output_files_dir": f"{job.notebook}_files",
        "metadata": {"name": job.notebook, "path": str(scratch)},
    }
    output, _ = exporter.from_notebook_node(nb, resources)
    return step, output


def job_kernel_name(job: NotebookJob) -> str:
    nb = nbformat.reads(job.sanitized, as_version=4)
    return str(nb.metadata.get("kernelspec", {}).get("name") or "python3")
