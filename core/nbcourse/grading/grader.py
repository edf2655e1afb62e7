"""`course grade`: autograde every submission of an assignment, in parallel, resumably.

One loop in the calling thread is the writer (it alone touches the gradebook and the autograded
folder); workers (local threads or Dask) only run notebooks. Work is ordered longest-first by the
notebooks' timings from earlier runs, and handed out a little ahead of the workers, so a slow
notebook started last cannot leave the other cores idle at the end.

A student's problem never stops the batch: a notebook that cannot be sanitized, run or recorded
scores 0 on every cell with the reason kept, and the report lists every such student and why.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..nbgrader import NbgraderCourse, read_notebook
from . import hooks, tamper
from .jobs import NotebookJob, NotebookOutcome
from .settings import (
    CourseGrader,
    default_workers,
    grader_settings,
    kernel_environment,
    kernel_extras,
    preimport_modules,
)
from .state import GradeState, NotebookRecord, SubmissionRecord, fingerprint
from .writer import Writer

# Notebooks the writer sanitizes ahead of the workers while it has nothing to record.
PREPARED_AHEAD = 16


class GradeError(RuntimeError):
    """The run cannot start (unknown assignment or student, assignment not in the gradebook)."""


@dataclass
class NotebookReport:
    student: str
    notebook: str
    score: float
    max_score: float
    problem: str | None = None
    seconds: float = 0.0
    compute: float = 0.0
    kernel: str = "none"


@dataclass
class GradeReport:
    assignment: str
    graded: list[NotebookReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # students already graded and unchanged
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    workers: int = 0
    left: int = 0  # notebooks not graded when interrupted

    def problem(self, student: str, why: str) -> None:
        self.problems[student].append(why)


class Reporter(Protocol):
    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None: ...
    def started(self, worker: str, student: str, notebook: str) -> None: ...
    def finished(self, item: NotebookReport) -> None: ...
    def note(self, text: str) -> None: ...
    def end(self, report: GradeReport) -> None: ...


class Executor(Protocol):
    workers: int
    on_start: Any

    def submit(self, job: NotebookJob) -> Future[NotebookOutcome]: ...
    def notes(self) -> list[str]: ...
    def close(self) -> None: ...


class _Silent:
    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None: ...
    def started(self, worker: str, student: str, notebook: str) -> None: ...
    def finished(self, item: NotebookReport) -> None: ...
    def note(self, text: str) -> None: ...
    def end(self, report: GradeReport) -> None: ...


def submitted_students(course: NbgraderCourse, assignment: str) -> list[str]:
    """Students with a submission folder for `assignment` (read as names, never as globs)."""
    root = course.step_root(course.coursedir.submitted_directory)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if course.submitted_dir(p.name, assignment).is_dir())


def warm_executor(
    course: NbgraderCourse,
    assignments: Iterable[str],
    workers: int | None = None,
    use_fork: bool | None = None,
) -> Executor:
    """A local executor whose fork servers pre-import what `assignments` import (kept by a server)."""
    from .local import LocalExecutor

    settings = grader_settings(course.config)
    extras = kernel_extras(settings)
    return LocalExecutor(
        default_workers(settings, workers),
        course.root,
        kernel_environment(extras, course.root),
        preimport_modules(settings, [course.source_dir(a) for a in assignments]),
        hooks.policy_for(course.root, course.config),
        settings.fork_tolerant_threads,
        settings.use_fork if use_fork is None else use_fork,
    )


def _dask_executor(course: NbgraderCourse, assignment: str, workers: int, scheduler: str | None) -> Executor:
    from .dask_executor import DaskExecutor

    settings = grader_settings(course.config)
    return DaskExecutor(
        workers=workers,
        scheduler=scheduler,
        preimport=preimport_modules(settings, [course.source_dir(assignment)]),
        extras=kernel_extras(settings),
        policy=hooks.policy_for(course.root, course.config),
        fork_tolerant_threads=settings.fork_tolerant_threads,
        use_fork=settings.use_fork,
        course_root=course.root,
        config=course.config,
    )


def _estimate(course: NbgraderCourse, assignment: str, notebook: str, timings: dict[str, float]) -> float:
    if notebook in timings:
        return timings[notebook]
    nb = read_notebook(course.source_dir(assignment) / f"{notebook}.ipynb")
    return float(sum(c.get("cell_type") == "code" for c in nb.cells)) if nb is not None else 0.0


class _Run:
    """The state of one grading run (the writer's side)."""

    def __init__(
        self,
        course: NbgraderCourse,
        assignment: str,
        settings: CourseGrader,
        writer: Writer,
        state: GradeState,
        report: GradeReport,
        reporter: Reporter,
    ) -> None:
        self.course, self.assignment, self.settings = course, assignment, settings
        self.writer, self.state, self.report, self.reporter = writer, state, report, reporter
        self.records: dict[str, SubmissionRecord] = {}
        self.fresh: dict[str, bool] = {}
        self.initialized: set[str] = set()
        self.failed_init: set[str] = set()
        self.files: dict[str, bytes] | None = None
        self.extras = kernel_extras(settings)
        self.policy = hooks.policy_for(course.root, course.config)
        self.observed: dict[str, list[float]] = defaultdict(list)

    def plan(self, students: Sequence[str], force: bool, known: set[str]) -> list[tuple[str, str]]:
        todo: list[tuple[str, str]] = []
        ignore = list(self.course.coursedir.ignore)
        source = self.course.source_dir(self.assignment)
        for student in students:
            fp = fingerprint([self.course.submitted_dir(student, self.assignment), source], ignore)
            record = self.state.load(student)
            fresh = force or record.fingerprint != fp
            if fresh:
                record = SubmissionRecord(fingerprint=fp)
            notebooks = [p.stem for p in self.writer.submitted_notebooks(student) if p.stem in known]
            left = [nb for nb in notebooks if nb not in record.notebooks]
            if not left and not fresh:
                self.report.skipped.append(student)
                continue
            self.records[student] = record
            self.fresh[student] = fresh
            todo += [(student, nb) for nb in left]
            if not notebooks:  # nothing to run, but autograde still zeroes the missing notebooks
                self._init(student)
        return todo

    def _init(self, student: str) -> bool:
        if student in self.initialized:
            return True
        if student in self.failed_init:
            return False
        try:
            self.writer.init_submission(student, fresh=self.fresh.get(student, False))
        except Exception as exc:
            self.failed_init.add(student)
            self.report.problem(student, f"not graded: autograde could not set up the submission ({exc})")
            self.reporter.note(f"{student}: autograde could not set up the submission: {exc}")
            return False
        self.initialized.add(student)
        self.state.save(student, self.records[student])
        return True

    def job(self, student: str, notebook: str, estimate: float) -> NotebookJob | None:
        """Prepare one notebook (writer side); None when it was settled without running."""
        if not self._init(student):
            return None
        if self.files is None:
            self.files = self.writer.declared_files(student)
        try:
            sanitized, repairs = self.writer.sanitize(student, notebook)
        except Exception as exc:
            self.settle(
                student, notebook, None, f"unreadable notebook, scored 0 ({type(exc).__name__}: {exc})"
            )
            return None
        if repairs:
            self.report.problem(student, f"{notebook}: mended before grading: {'; '.join(repairs)}")
        return NotebookJob(
            assignment=self.assignment,
            student=student,
            notebook=notebook,
            sanitized=sanitized,
            files=self.files,
            config=self.course.config,
            kernel_env=self.extras,
            timeout=self.settings.notebook_timeout,
            estimate=estimate,
            policy=self.policy,
        )

    def settle(
        self, student: str, notebook: str, outcome: NotebookOutcome | None, problem: str | None
    ) -> None:
        """Record one notebook's result in the gradebook, the autograded folder and the state."""
        if outcome is not None and outcome.output is not None:
            try:
                self.writer.record(student, notebook, outcome.output)
            except Exception as exc:
                problem = f"{problem + '; ' if problem else ''}could not record ({type(exc).__name__}: {exc})"
                outcome = None
        if outcome is None or outcome.output is None:
            try:
                self.writer.zero(student, notebook)
            except Exception as exc:
                self.report.problem(student, f"{notebook}: could not even record a zero ({exc})")
                return  # not in the state: the next run tries again
        if outcome is not None:
            for note in outcome.notes:
                self.reporter.note(f"{student}/{notebook}: {note}")
            if outcome.flags:
                self.report.problem(student, f"{notebook}: {tamper.flags_text(outcome.flags)}")
        score, max_score = self.writer.scores(student).get(notebook, (0.0, 0.0))
        item = NotebookReport(
            student,
            notebook,
            score,
            max_score,
            problem,
            outcome.seconds if outcome else 0.0,
            outcome.compute if outcome else 0.0,
            outcome.kernel if outcome else "none",
        )
        if problem:
            self.report.problem(student, f"{notebook}: {problem}")
        if outcome is not None and outcome.output is not None and not problem:
            self.observed[notebook].append(outcome.seconds)
        record = self.records[student]
        record.notebooks[notebook] = NotebookRecord(score, max_score, problem, item.seconds)
        self.state.save(student, record)
        self.report.graded.append(item)
        self.reporter.finished(item)


def grade_assignment(
    course: NbgraderCourse | Path | str,
    assignment: str,
    *,
    students: Sequence[str] | None = None,
    force: bool = False,
    workers: int | None = None,
    executor: str | Executor = "local",
    scheduler: str | None = None,
    reporter: Reporter | None = None,
) -> GradeReport:
    """Autograde `assignment` for every submitted student (or `students`); see the module doc.

    executor: "local", "dask" (a LocalCluster, or the cluster at `scheduler`), or an executor
        the caller keeps (a server keeps one warm between calls; it is not closed here).
    """
    started = time.monotonic()
    course = NbgraderCourse.of(course)
    reporter = reporter or _Silent()
    settings = grader_settings(course.config)
    nworkers = default_workers(settings, workers)
    report = GradeReport(assignment, workers=nworkers)

    if not course.source_dir(assignment).is_dir() and not course.release_dir(assignment).is_dir():
        raise GradeError(f"no assignment {assignment!r} in this course")
    writer = Writer(course, assignment)
    try:
        known = set(writer.known_notebooks())
    except Exception as exc:
        raise GradeError(
            f"{assignment} is not in the gradebook ({exc}); build it first "
            f"(`course build {assignment}` or `nbgrader generate_assignment {assignment}`)"
        ) from exc
    everyone = submitted_students(course, assignment)
    if students:
        unknown = [s for s in students if s not in everyone]
        if unknown:
            raise GradeError(f"no submission of {assignment} for: {', '.join(unknown)}")
        everyone = list(dict.fromkeys(students))

    state = GradeState(course.root, assignment)
    run = _Run(course, assignment, settings, writer, state, report, reporter)
    todo = run.plan(everyone, force, known)
    timings = state.timings()
    estimates = {nb: _estimate(course, assignment, nb, timings) for nb in {nb for _, nb in todo}}
    todo.sort(key=lambda item: (-estimates[item[1]], item[0]))

    owned = isinstance(executor, str)
    pool: Executor | None = None
    reporter.begin(assignment, len(todo), nworkers, len(report.skipped))
    inflight: dict[Future[NotebookOutcome], tuple[str, str]] = {}
    try:
        if todo:
            if executor == "local":
                pool = warm_executor(course, [assignment], nworkers)
            elif executor == "dask":
                try:
                    pool = _dask_executor(course, assignment, nworkers, scheduler)
                except (OSError, ValueError, TimeoutError) as exc:
                    raise GradeError(f"could not reach or start the Dask cluster: {exc}") from exc
            elif isinstance(executor, str):
                raise GradeError(f"unknown executor {executor!r} (local or dask)")
            else:
                pool = executor
            report.workers = pool.workers  # a remote cluster has as many as it has
            pool.on_start = lambda worker, job: reporter.started(worker, job.student, job.notebook)
            notes_shown = False
            queue = list(todo)
            ahead = pool.workers + 1
            # Prepared (sanitized) while the writer would otherwise wait: at the start, while the
            # fork server imports, a core is the writer's.
            prepared: list[tuple[str, str, NotebookJob]] = []
            while queue or prepared or inflight:
                while (queue or prepared) and len(inflight) < ahead:
                    if prepared:
                        student, notebook, job = prepared.pop(0)
                    else:
                        student, notebook = queue.pop(0)
                        job = run.job(student, notebook, estimates[notebook])
                    if job is not None:
                        inflight[pool.submit(job)] = (student, notebook)
                if not inflight:
                    continue
                idle_work = bool(queue) and len(prepared) < PREPARED_AHEAD
                done, _ = wait(list(inflight), timeout=0 if idle_work else 0.5, return_when=FIRST_COMPLETED)
                if not done and idle_work:
                    student, notebook = queue.pop(0)
                    job = run.job(student, notebook, estimates[notebook])
                    if job is not None:
                        prepared.append((student, notebook, job))
                    continue
                for future in done:
                    student, notebook = inflight.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the executor itself failed, not the notebook
                        run.settle(student, notebook, None, f"worker failed: {type(exc).__name__}: {exc}")
                        continue
                    run.settle(student, notebook, outcome, outcome.problem)
                    if not notes_shown:
                        notes_shown = True
                        for note in pool.notes():
                            report.notes.append(note)
                            reporter.note(note)
    except KeyboardInterrupt:
        report.interrupted = True
        report.left = len(todo) - len(report.graded)
    finally:
        if pool is not None and owned:
            pool.close()
        state.save_timings(run.observed)
        report.seconds = time.monotonic() - started
        reporter.end(report)
    return report
