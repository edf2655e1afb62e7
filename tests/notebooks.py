"""Helpers the course tests share: finding assignments, reading nbgrader cells, running notebooks."""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nbcourse.grading.execute import forked_kernel_manager, imported_since_fork, new_scratch, shutdown_kernel
from nbcourse.grading.forkserver import DEFAULT_FORK_TOLERANT_THREADS
from nbcourse.grading.local import WarmPool
from nbcourse.grading.settings import CourseGrader, kernel_environment, kernel_extras, top_level_imports

# The library's definitions, re-exported for the course tests (one definition of each).
from nbcourse.nbgrader import (
    NbgraderCourse,
    NbgraderError,
    assignment_folders,
    grade_ids,
    is_autograded_test,
    nbgrader_meta,
    nbgrader_timestamp,
    open_gradebook,
    run_nbgrader,
)

__all__ = ["grade_ids", "is_autograded_test", "nbgrader_meta"]

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
DATA = ROOT / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUBMITTED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def assignments() -> list[str]:
    """Assignments present in source/ (later modules appear as they are written)."""
    return assignment_folders(SOURCE) if SOURCE.is_dir() else []


def notebooks(assignment: str) -> list[Path]:
    return sorted((SOURCE / assignment).glob("*.ipynb"))


def course_env() -> dict[str, str]:
    """Environment for kernels and nbgrader: the course data found by path from anywhere."""
    return dict(os.environ, COURSE_DATA_DIR=str(DATA))


def error_text(cell: nbformat.NotebookNode) -> str:
    """Everything nbgrader would count as failure in a cell's outputs, without colour codes."""
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}\n" + "\n".join(out.traceback))
        elif out.output_type == "stream" and out.name == "stderr":
            parts.append(out.text)
    return ANSI.sub("", "\n".join(parts))


def kernel_env() -> dict[str, str]:
    """The environment `course grade` gives its kernels (one BLAS thread, the inline backend), over
    the course data."""
    return kernel_environment(kernel_extras(CourseGrader()), ROOT, base=course_env())


@functools.cache
def warm_kernels() -> WarmPool:
    """This test process's fork server, as `course grade` keeps one: the course's imports are paid
    once, and every notebook gets a fresh kernel forked from it (the grader's own kernels)."""
    preimport = top_level_imports(sorted(SOURCE.glob("*/*.ipynb")))
    pool = WarmPool(1, kernel_env(), preimport, None, DEFAULT_FORK_TOLERANT_THREADS)
    atexit.register(pool.close)
    return pool


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel (forked, as the grader's are; a plain one when the fork
    server refused), keeping errors in the outputs instead of raising."""
    pool = warm_kernels()
    server = pool.current_server()
    if server is None or not server.usable:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(cwd)}},
        )
        client.execute(env=pool.env)
        return nb
    scratch = new_scratch(pool.scratch_root, "test")
    km = forked_kernel_manager(server, scratch, pool.env, "python3")
    client = NotebookClient(
        nb, km=km, timeout=timeout, allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    )
    try:
        client.execute()
        # What the cells imported beyond the server's imports: later kernels start with it.
        pool.teach(server, imported_since_fork(client))
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
        shutdown_kernel(km)
        atexit.unregister(client._cleanup_kernel)  # registered by nbclient for every client
        shutil.rmtree(scratch, ignore_errors=True)
    return nb


@dataclass
class CellScore:
    notebook: str
    grade_id: str
    score: float
    max_score: float
    autograded: bool


def nbgrader(course: Path, verb: str, *args: str) -> list[str]:
    """Run an nbgrader verb in a throwaway course (its own gradebook); its output lines."""
    env = dict(course_env(), COURSE_DB_URL=f"sqlite:///{course / 'gradebook.db'}")
    try:
        return run_nbgrader(NbgraderCourse(course), verb, *args, env=env)
    except NbgraderError as exc:
        raise AssertionError(f"nbgrader {verb} {' '.join(args)} failed:\n{exc}") from None


COURSE_CLI = str(Path(sys.executable).parent / "course")


def course_cli_env() -> dict[str, str]:
    """The `course` command's environment in a throwaway course: its own SQLite gradebook."""
    env = course_env()
    env.pop("COURSE_DB_URL", None)
    return env


def course_grade(course: Path, assignment: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`course grade` as an instructor runs it, in a throwaway course; its exit code and output."""
    return subprocess.run(
        [COURSE_CLI, "--root", str(course), "grade", assignment, *args],
        env=course_cli_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def grade_in_throwaway_courses() -> None:
    """For a script that grades throwaway courses: each grades into its own gradebook, with the
    repository's data, and nbgrader's harmless SAWarnings are not printed."""
    import warnings

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    os.environ.pop("COURSE_DB_URL", None)
    os.environ["COURSE_DATA_DIR"] = str(DATA)


def make_course(tmp: Path, assignment: str) -> Path:
    """A throwaway nbgrader course holding one assignment of the real course."""
    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE / assignment, course / "source" / assignment)
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course


def submit(course: Path, assignment: str, student: str, files_from: Path) -> None:
    target = NbgraderCourse(course).submitted_dir(student, assignment)
    target.mkdir(parents=True)
    for nb in sorted(files_from.glob("*.ipynb")):
        shutil.copy(nb, target / nb.name)
    (target / "timestamp.txt").write_text(nbgrader_timestamp(SUBMITTED_AT))


def scores(course: Path, assignment: str, student: str) -> list[CellScore]:
    result: list[CellScore] = []
    with open_gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                result.append(
                    CellScore(
                        notebook=nb.name,
                        grade_id=grade.name,
                        score=grade.score,
                        max_score=grade.max_score,
                        autograded=grade.auto_score is not None and grade.cell_type == "code",
                    )
                )
    return result
