"""The gradebook on a real PostgreSQL server: two graders writing at once lose nothing.

SQLite stays the default (one writer at a time); a cohort's gradebook is PostgreSQL, named by
`COURSE_DB_URL`, so several graders (or a Dask cluster's writers) can record grades concurrently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cohort.postgres import postgres_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ASSIGNMENT = "pg_ps1"
STUDENTS_PER_GRADER = 5


def _cell(source: str, grade_id: str, *, solution: bool = False, points: int = 0) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": points > 0,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
        **({"points": points} if points else {}),
    }
    return cell


def _notebook(answer: str) -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            _cell(f"def answer():\n    {answer}", "answer", solution=True),
            _cell("assert answer() == 42, 'the answer is 42'", "test_value", points=2),
            _cell("assert isinstance(answer(), int), 'an int'", "test_type", points=1),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


def _nbgrader(course: Path, db_url: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, COURSE_DB_URL=db_url)
    return subprocess.Popen(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(proc: subprocess.Popen[str]) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return out


def test_two_graders_write_one_postgres_gradebook_at_once(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    root = Path(__file__).resolve().parents[2]
    course = tmp_path / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((root / "nbgrader_config.py").read_text())
    nbformat.write(_notebook("return 42"), course / "source" / ASSIGNMENT / "problem.ipynb")

    with postgres_cluster() as cluster:
        db_url = cluster.create_database("gradebook")
        _wait(_nbgrader(course, db_url, "generate_assignment", ASSIGNMENT, "--force"))

        expected: dict[str, float] = {}
        for group in ("a", "b"):
            for i in range(STUDENTS_PER_GRADER):
                student = f"{group}{i:02d}"
                right = i % 2 == 0  # half right (3 points), half wrong-typed (0 points)
                folder = course / "submitted" / student / ASSIGNMENT
                folder.mkdir(parents=True)
                nbformat.write(_notebook("return 42" if right else "return '42'"), folder / "problem.ipynb")
                (folder / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
                expected[student] = 3.0 if right else 0.0

        # Two graders at the same time, each on its own half of the cohort, one gradebook.
        graders = [
            _nbgrader(course, db_url, "autograde", ASSIGNMENT, f"--student={group}*", "--force")
            for group in ("a", "b")
        ]
        outputs = [_wait(g) for g in graders]

        with Gradebook(db_url) as gb:
            got = {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
            grades = sum(len(nb.grades) for s in gb.assignment_submissions(ASSIGNMENT) for nb in s.notebooks)
        assert got == expected, f"grades lost or wrong with two concurrent graders: {got}\n{outputs}"
        assert grades == 2 * len(expected), "every submission has exactly its two grade cells"
