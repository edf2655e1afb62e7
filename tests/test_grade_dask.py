"""`course grade --executor dask` gives every cell the score the local executor gives.

A real `dask scheduler` and two `dask worker` processes (one thread each, each in a folder of its
own that is not the course, holding a copy of data/: one finds its root as its working directory,
the other through NBCOURSE_WORKER_ROOT) grade a small cohort of Module 1's exercises notebook; a
copy of the same course is graded by the local executor, and every (student, notebook, cell) must
agree. The workers' fork servers must be gone when the run ends (the worker plugin's teardown).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import distributed  # a missing dependency fails this test, never skips it
import psutil
import pytest
from grading.cohort import Submission, cohort, submit_all
from grading.compare import all_grades, differences

from notebooks import DATA, make_course

pytestmark = pytest.mark.slow

ASSIGNMENT = "m1_data_engineering"
NOTEBOOK = "01_exercises"
WRONG = 2  # wrong-answer students besides the reference and the blank release
DASK = Path(sys.executable).parent / "dask"  # the console script of this environment
WORKER_OPTS = ["--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"]


class Starts:
    """A reporter that only keeps which worker started which notebook."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def begin(self, assignment: str, total: int, workers: int, skipped: int) -> None: ...
    def started(self, worker: str, student: str, notebook: str) -> None:
        self.seen.append((worker, student, notebook))

    def finished(self, item: object) -> None: ...
    def note(self, text: str) -> None: ...
    def end(self, report: object) -> None: ...


def _small_cohort(course: Path) -> list[Submission]:
    subs = cohort(course / "source" / ASSIGNMENT, course / "release" / ASSIGNMENT, [NOTEBOOK])
    wrong = [s for s in subs if s.student.startswith(f"{NOTEBOOK}-")][:WRONG]
    keep = [s for s in subs if s.student in ("reference", "blank")] + wrong
    return [Submission(s.student, {NOTEBOOK: s.notebooks[NOTEBOOK]}) for s in keep]


def _spawn(argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (a worker's nanny and its worker), SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _fork_servers(procs: list[subprocess.Popen[bytes]]) -> list[str]:
    found = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(proc.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    cmd = " ".join(child.cmdline())
                    if "nbcourse.grading.forkserver" in cmd:
                        found.append(cmd)
    return found


@pytest.mark.timeout(900)
def test_dask_executor_grades_like_the_local_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbcourse.grading.grader import grade_assignment
    from nbcourse.nbgrader import NbgraderCourse

    assert DASK.is_file(), f"no dask console script next to {sys.executable}"
    local = make_course(tmp_path / "local", ASSIGNMENT)
    course = NbgraderCourse.load(local)
    subs = _small_cohort(local)
    submit_all(local, ASSIGNMENT, subs, course.step_root(course.coursedir.submitted_directory))
    remote = tmp_path / "dask" / "course"
    shutil.copytree(local, remote)

    # The data is found as "{course_root}/data" (the course config's default): the local course
    # and each worker root have a copy, the course the Dask client grades has none, so a worker
    # that took the client's root for its own would find no data.
    shutil.copytree(DATA, local / "data")
    own_cluster = tmp_path / "localcluster" / "course"  # --executor dask without --scheduler
    shutil.copytree(local, own_cluster)
    monkeypatch.delenv("COURSE_DB_URL", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DB_URL", "COURSE_DATA_DIR")}
    scheduler_file = tmp_path / "scheduler.json"
    scheduler_opt = ["--scheduler-file", str(scheduler_file)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            _spawn(
                [
                    str(DASK),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    *scheduler_opt,
                ],
                tmp_path,
                env,
                tmp_path / "scheduler.log",
            )
        )
        roots = [tmp_path / "worker-a", tmp_path / "worker-b"]
        for i, root in enumerate(roots):
            shutil.copytree(DATA, root / "data")
            scratch = ["--local-directory", str(root / "dask-scratch")]
            worker_env = dict(env, NBCOURSE_WORKER_ROOT=str(root)) if i else dict(env)
            procs.append(
                _spawn(
                    [str(DASK), "worker", *scheduler_opt, *WORKER_OPTS, "--name", root.name, *scratch],
                    root,
                    worker_env,
                    tmp_path / f"{root.name}.log",
                )
            )
        deadline = time.monotonic() + 120
        while not scheduler_file.is_file():
            assert time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.2)
        with distributed.Client(scheduler_file=str(scheduler_file), timeout=60) as client:
            address = client.scheduler.address
            client.wait_for_workers(2, timeout=120)

        starts = Starts()
        dask_report = grade_assignment(
            remote, ASSIGNMENT, executor="dask", scheduler=address, reporter=starts
        )
        local_report = grade_assignment(local, ASSIGNMENT, executor="local", workers=2)
        cluster_report = grade_assignment(own_cluster, ASSIGNMENT, executor="dask", workers=2)

        # The plugin's teardown closed every fork server; the workers themselves keep running.
        assert all(p.poll() is None for p in procs), "a Dask process died during the run"
        leftover = _fork_servers(procs[1:])
        for _ in range(50):
            if not leftover:
                break
            time.sleep(0.2)
            leftover = _fork_servers(procs[1:])
        assert not leftover, f"fork servers left running on the workers: {leftover}"
    finally:
        for proc in reversed(procs):
            _stop(proc)

    students = {s.student for s in subs}
    for report in (dask_report, local_report, cluster_report):
        assert not report.interrupted
        assert {g.student for g in report.graded} == students
        assert not any(g.problem for g in report.graded), [g.problem for g in report.graded]
    assert any(note.startswith(f"dask: 2 workers, 2 threads at {address}") for note in dask_report.notes)
    # Forked on the Dask workers exactly where forked locally (the daemonic worker can fork).
    kernels = {(g.student, g.kernel) for g in local_report.graded}
    assert {(g.student, g.kernel) for g in dask_report.graded} == kernels
    assert {(g.student, g.kernel) for g in cluster_report.graded} == kernels
    assert any(
        note.startswith("dask: 2 workers, 2 threads at tcp://127.0.0.1:") for note in cluster_report.notes
    )
    # on_start came back from the workers: every notebook, and both workers had work.
    for _ in range(50):
        if len(starts.seen) >= len(students):
            break
        time.sleep(0.1)
    assert {(s, nb) for _, s, nb in starts.seen} == {(s, NOTEBOOK) for s in students}
    assert {w.split("/")[0] for w, _, _ in starts.seen} == {"worker-a", "worker-b"}, starts.seen

    expected = all_grades(local / "gradebook.db", ASSIGNMENT)
    got = all_grades(remote / "gradebook.db", ASSIGNMENT)
    assert not differences(expected, got), "\n".join(differences(expected, got))
    on_cluster = all_grades(own_cluster / "gradebook.db", ASSIGNMENT)
    assert not differences(expected, on_cluster), "\n".join(differences(expected, on_cluster))
    totals = {s: sum(v[0] or 0 for k, v in got.items() if k[0] == s and k[1] == NOTEBOOK) for s in students}
    assert totals["reference"] > max(v for s, v in totals.items() if s != "reference")
    assert totals["blank"] == 0
