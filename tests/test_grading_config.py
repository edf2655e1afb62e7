"""The course's nbgrader configuration grades fairly: warnings never cost points, runaway code stops.

These run stock `nbgrader autograde` with the real nbgrader_config.py on a two-cell assignment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from notebooks import ROOT, nbgrader, scores, submit

pytestmark = pytest.mark.slow

ASSIGNMENT = "config_probe"


def meta(grade_id: str, **flags: object) -> dict:
    base = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id}
    base.update(flags)
    return {"nbgrader": base}


def probe_notebook(answer: str) -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_code_cell(
                f"def answer():\n    ### BEGIN SOLUTION\n{answer}\n    ### END SOLUTION",
                metadata=meta("answer", solution=True),
            ),
            new_code_cell(
                "import warnings\n"
                "warnings.warn('this API will change', FutureWarning)\n"
                "assert answer() == 42, 'answer() should return 42'",
                metadata=meta("answer_tests", grade=True, locked=True, points=1),
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


@pytest.fixture
def course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nbformat.write(probe_notebook("    return 42"), course / "source" / ASSIGNMENT / "probe.ipynb")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def grade(course: Path, student: str, answer: str, *extra: str) -> float:
    folder = course / "work" / student
    folder.mkdir(parents=True)
    nbformat.write(probe_notebook(answer), folder / "probe.ipynb")
    submit(course, ASSIGNMENT, student, folder)
    nbgrader(course, "autograde", ASSIGNMENT, "--student", student, "--force", *extra)
    (cell,) = [c for c in scores(course, ASSIGNMENT, student) if c.grade_id == "answer_tests"]
    return cell.score


def test_a_library_warning_does_not_zero_a_passing_cell(course: Path) -> None:
    assert grade(course, "right", "    return 42") == 1


def test_a_wrong_answer_still_scores_zero(course: Path) -> None:
    assert grade(course, "wrong", "    return 41") == 0


def test_runaway_student_code_is_interrupted_and_scores_zero(course: Path) -> None:
    # the course allows 120 s per cell; a short limit here proves the limit is enforced, not its size
    assert grade(course, "loop", "    while True:\n        pass", "--Execute.timeout=5") == 0
