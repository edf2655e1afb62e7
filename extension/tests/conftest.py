"""Shared fixtures: a tiny, complete course built in a temporary folder.

The fixture course has one nbgrader assignment (`ps1`, notebook `problem1`) with one solution
cell, one test cell (visible + hidden tests) and one manually graded written answer, its own
`nbgrader_config.py` with a SQLite gradebook inside the course folder, a `course.yaml` with items
of every kind, a data folder with SHA256SUMS, and a learner workspace. The real course is never
touched.

Building the course runs `nbgrader generate_assignment` once per test session (a few seconds);
each test gets its own copy, so tests can grade, write and corrupt freely.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest

from nbcourse import nbgrader

pytest_plugins = ["pytest_jupyter.jupyter_server"]

ASSIGNMENT = "ps1"
NOTEBOOK = "problem1"
STUDENT = "learner"

NBGRADER_CONFIG = """\
import os
from pathlib import Path
from types import SimpleNamespace

c = get_config()  # noqa: F821
ROOT = Path(__file__).resolve().parent
c.CourseDirectory.course_id = "fixture-course"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.db_url = os.environ.get("FIXTURE_DB_URL", f"sqlite:///{ROOT / 'gradebook.db'}")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]
c.Execute.timeout = 60
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
"""

COURSE_YAML = """\
schema_version: 1
course_id: fixture-course
title: Fixture Course Tracker
assignments:
  - id: ps1
    title: "Problem set 1"
    notebooks: [problem1]
sections:
  - id: setup
    title: "Setup"
    groups:
      - id: setup.env
        title: Environment
        items:
          - {id: setup.env.python, kind: env, text: "Python 3.10+",
             env: {check: python, args: {min_version: "3.10"}}}
          - {id: setup.env.deps, kind: env, text: "Dependencies installed",
             env: {check: dependencies, args: {modules: [json, no_such_module_xyz]}}}
          - {id: setup.env.data, kind: env, text: "Data verified", env: {check: data}}
          - {id: setup.env.workspace, kind: env, text: "Workspace ready", env: {check: workspace}}
  - id: m1
    title: "Module 1"
    groups:
      - id: m1.core
        title: Core Notebook
        items:
          - {id: m1.core.opened, kind: auto, text: "Opened the notebook",
             auto: {assignment: ps1, notebook: problem1, rule: opened}}
          - {id: m1.core.squares, kind: auto, text: "Exercise: squares",
             auto: {assignment: ps1, notebook: problem1, rule: cells, cells: [test_squares]}}
          - {id: m1.core.all, kind: auto, text: "All tests pass",
             auto: {assignment: ps1, notebook: problem1, rule: all_cells}}
          - {id: m1.core.score, kind: auto, text: "Checkpoint score",
             auto: {assignment: ps1, notebook: problem1, rule: score, min_score: 1}}
          - {id: m1.core.explain, kind: auto, text: "Explained the approach",
             auto: {assignment: ps1, notebook: problem1, rule: answered, cells: [explain]}}
      - id: m1.reflect
        title: Reflection
        items:
          - {id: m1.reflect.q1, kind: self, text: "I can explain squares"}
          - {id: m1.reflect.q2, kind: self, text: "I can explain cubes"}
          - {id: m1.reflect.status, kind: choice, text: "Module status",
             options: [Not started, In progress, Complete], satisfied_by: [Complete]}
          - {id: m1.reflect.name, kind: text, text: "Name"}
          - {id: m1.reflect.journal, kind: text, text: "Journal", multiline: true}
  - id: summary
    title: "Summary"
    groups:
      - id: summary.counts
        title: null
        items:
          - {id: summary.questions, kind: derived, text: "Questions answered",
             derived: {rule: count, of: [m1.reflect.q1, m1.reflect.q2]}}
          - {id: summary.groups, kind: derived, text: "Groups done",
             derived: {rule: count_groups, groups: [[m1.reflect.q1], [m1.reflect.q2, m1.core.squares]]}}
          - {id: summary.ready, kind: derived, text: "Ready",
             derived: {rule: threshold, source: summary.questions, at_least: 2,
                       then: "Ready", else: "Not yet"}}
          - {id: summary.level, kind: derived, text: "Level",
             derived: {rule: level, source: summary.questions,
                       levels: [{at_least: 0, value: Beginner}, {at_least: 1, value: Intermediate},
                                {at_least: 2, value: Advanced}]}}
"""

CORRECT_SOLUTION = "def squares(n):\n    return [i * i for i in range(n)]\n"
WRONG_SOLUTION = "def squares(n):\n    return [i * 2 for i in range(n)]\n"


def _nbgrader_meta(
    grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade_id": grade_id,
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "schema_version": 3,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's notebook: solution, visible + hidden tests, a written answer."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Problem 1\nWrite `squares(n)`."),
        nbformat.v4.new_code_cell(
            "def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(n)]\n"
            "    ### END SOLUTION\n",
            metadata=_nbgrader_meta("squares", grade=False, solution=True, locked=False),
        ),
        nbformat.v4.new_code_cell(
            "assert squares(3) == [0, 1, 4], 'squares(3) should be [0, 1, 4]'\n"
            "### BEGIN HIDDEN TESTS\nassert squares(5) == [0, 1, 4, 9, 16]\n### END HIDDEN TESTS\n",
            metadata=_nbgrader_meta("test_squares", grade=True, solution=False, locked=True, points=1),
        ),
        nbformat.v4.new_markdown_cell(
            "### BEGIN SOLUTION\nSquaring each index in a list comprehension.\n### END SOLUTION",
            metadata=_nbgrader_meta("explain", grade=True, solution=True, locked=False, points=1),
        ),
    ]
    return nb


def set_solution(nb_path: Path, code: str, *, answer: str | None = None) -> None:
    """Write a learner's solution (and optionally the written answer) into a notebook."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "squares":
            cell.source = code
        if grade_id == "explain" and answer is not None:
            cell.source = answer
    nbformat.write(nb, nb_path)


def mark_executed(nb_path: Path, *, error: bool = False) -> None:
    """Pretend the learner ran every code cell (with an error in the test cell if asked)."""
    nb = nbformat.read(nb_path, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = []
        if error and cell.metadata.get("nbgrader", {}).get("grade_id") == "test_squares":
            cell.outputs = [
                nbformat.v4.new_output(
                    "error",
                    ename="AssertionError",
                    evalue="squares(3) should be [0, 1, 4]",
                    traceback=[],
                )
            ]
    nbformat.write(nb, nb_path)


def run_nbgrader(course: Path, verb: str, *args: str) -> list[str]:
    """Run an nbgrader verb in the fixture course with the library's runner; its output lines."""
    try:
        return nbgrader.run_nbgrader(nbgrader.NbgraderCourse(course), verb, *args, timeout=300)
    except nbgrader.NbgraderError as exc:
        raise AssertionError(f"nbgrader {verb} {' '.join(args)} failed:\n{exc}") from None


def submit(course: Path, code: str, answer: str | None = None, student: str = STUDENT) -> Path:
    """Put a submission of ps1 with `code` as the solution into submitted/<student>/."""
    folder = nbgrader.NbgraderCourse(course).submitted_dir(student, ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", folder / f"{NOTEBOOK}.ipynb")
    set_solution(folder / f"{NOTEBOOK}.ipynb", code, answer=answer)
    (folder / "timestamp.txt").write_text("2026-11-27 10:00:00.000000 UTC\n")
    return folder


def _build_template(root: Path) -> Path:
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "course.yaml").write_text(COURSE_YAML, encoding="utf-8")
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    nbformat.write(source_notebook(), course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    data = course / "data"
    data.mkdir()
    (data / "numbers.csv").write_text("n\n1\n2\n3\n", encoding="utf-8")
    digest = hashlib.sha256((data / "numbers.csv").read_bytes()).hexdigest()
    (data / "SHA256SUMS").write_text(f"{digest}  numbers.csv\n", encoding="utf-8")
    # generate_assignment writes release/ and records the source's cells in the gradebook.
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    workspace = course / "workspace" / ASSIGNMENT
    workspace.mkdir(parents=True)
    shutil.copy(course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", workspace)
    return course


@pytest.fixture(scope="session")
def course_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def graded_template(tmp_path_factory: pytest.TempPathFactory, course_template: Path) -> Path:
    """The template after a real autograde + feedback of a correct submission by `learner`."""
    course = tmp_path_factory.mktemp("graded") / "course"
    shutil.copytree(course_template, course)
    submit(course, CORRECT_SOLUTION, answer="I square each index.")
    run_nbgrader(course, "autograde", ASSIGNMENT, "--student", STUDENT, "--force")
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", STUDENT, "--force")
    return course


@pytest.fixture
def course_source(course_template: Path) -> Path:
    """Which template `course_root` copies; a test module overrides this to start graded."""
    return course_template


@pytest.fixture
def course_root(tmp_path: Path, course_source: Path) -> Path:
    """A fresh copy of the fixture course for one test (ungraded unless course_source says)."""
    course = tmp_path / "course"
    shutil.copytree(course_source, course)
    return course


@pytest.fixture
def graded_course(tmp_path: Path, graded_template: Path) -> Path:
    """A fresh copy of the fixture course where `learner` has a full-marks autograde."""
    course = tmp_path / "graded" / "course"
    shutil.copytree(graded_template, course)
    return course


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "fixture-course.json"


@pytest.fixture
def tracker_config(course_root: Path, store_path: Path) -> dict[str, Any]:
    """The CourseTracker config the server tests use; tests may change it before the server starts."""
    return {
        "course_root": str(course_root),
        "store_path": str(store_path),
        "student_id": STUDENT,
        "check_timeout": 600.0,
        "warm_checks": False,  # one warm grader per test server would cost the suite minutes
    }


@pytest.fixture
def jp_root_dir(course_root: Path) -> Path:
    # Serve the course folder itself, so notebook paths are relative to it as for a learner.
    return course_root


@pytest.fixture
def jp_server_config(tracker_config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"course_tracker": True}},
        "CourseTracker": tracker_config,
    }


@pytest.fixture
def api(jp_fetch: Callable[..., Any]) -> Callable[..., Any]:
    """`await api("GET", "tracker")` -> (status, parsed JSON or text); never raises on 4xx/5xx."""

    async def call(
        method: str,
        *path: str,
        body: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if raw is not None:
            kwargs["body"] = raw
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT"):
            kwargs["body"] = b""
        response = await jp_fetch("course-tracker", *path, headers=headers, **kwargs)
        text = response.body.decode("utf-8") if response.body else ""
        content_type = response.headers.get("Content-Type", "")
        parsed: Any = json.loads(text) if "json" in content_type and text else text
        return response.code, parsed, response.headers

    return call


@pytest.fixture(scope="session")
def tools() -> SimpleNamespace:
    """The fixture course's names and helpers, for test modules (conftest is not importable)."""
    return SimpleNamespace(
        ASSIGNMENT=ASSIGNMENT,
        NOTEBOOK=NOTEBOOK,
        STUDENT=STUDENT,
        CORRECT_SOLUTION=CORRECT_SOLUTION,
        WRONG_SOLUTION=WRONG_SOLUTION,
        set_solution=set_solution,
        mark_executed=mark_executed,
        run_nbgrader=run_nbgrader,
        submit=submit,
    )
