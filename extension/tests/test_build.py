"""The release checks must catch every way a release can leak or drift from source/."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nbcourse import authoring as build

SOLUTION_LINE = "answer = sorted(values, key=lambda v: (-v.score, v.name))"
HIDDEN_LINE = "assert secret_holdout_accuracy(answer) > 0.75"


def meta(grade_id: str, **flags: object) -> dict:
    base = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id}
    base.update(flags)
    return {"nbgrader": base}


def source_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_markdown_cell("# Sorting\nSort the values.", metadata=meta("intro", locked=True)),
            new_code_cell(
                f"def solve(values):\n    ### BEGIN SOLUTION\n    {SOLUTION_LINE}\n    return answer\n"
                "    ### END SOLUTION",
                metadata=meta("solve", solution=True),
            ),
            new_code_cell(
                f"assert solve([]) == []\n### BEGIN HIDDEN TESTS\n{HIDDEN_LINE}\n### END HIDDEN TESTS",
                metadata=meta("solve_tests", grade=True, locked=True, points=2),
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


@pytest.fixture
def course(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    (root / "source" / "a1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'test'\n"
        "c.CourseDirectory.ignore = ['.ipynb_checkpoints', 'instructor']\n"
    )
    nbformat.write(source_notebook(), root / "source" / "a1" / "work.ipynb")
    return root


@pytest.mark.slow
def test_fresh_build_is_clean_and_a_committed_copy_is_in_sync(course: Path) -> None:
    build.build_release(course, course / "release", ["a1"])
    released = (course / "release" / "a1" / "work.ipynb").read_text()
    assert SOLUTION_LINE not in released and HIDDEN_LINE not in released
    assert "raise NotImplementedError" in released
    assert build.check_release_clean(course / "source", course / "release", "a1") == []
    report = build.check_release(course)
    assert report.ok, report.lines()


@pytest.mark.slow
def test_editing_source_without_rebuilding_is_out_of_sync(course: Path) -> None:
    build.build_release(course, course / "release", ["a1"])
    nb = nbformat.read(course / "source" / "a1" / "work.ipynb", as_version=4)
    nb.cells[0].source += "\nNew instructions."
    nbformat.write(nb, course / "source" / "a1" / "work.ipynb")
    report = build.check_release(course)
    assert report.out_of_sync == ["release/a1/work.ipynb: differs from a fresh build"]
    assert not report.ok


def write_release(course: Path, nb: nbformat.NotebookNode, name: str = "work.ipynb") -> Path:
    target = course / "release" / "a1" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def test_leaked_solution_line_is_reported_with_its_cell(course: Path) -> None:
    nb = source_notebook()
    nb.cells[1].source = f"def solve(values):\n    {SOLUTION_LINE}\n"
    nb.cells[2].source = "assert solve([]) == []"
    write_release(course, nb)
    problems = build.check_release_clean(course / "source", course / "release", "a1")
    assert any("cell 1" in p and "leaks solution/hidden text" in p and "sorted(values" in p for p in problems)


def test_leaked_hidden_test_and_markers_are_reported(course: Path) -> None:
    write_release(course, source_notebook())  # an unstripped copy of the source
    problems = build.check_release_clean(course / "source", course / "release", "a1")
    assert any("### BEGIN HIDDEN TESTS" in p for p in problems)
    assert any("### BEGIN SOLUTION" in p for p in problems)
    assert any(HIDDEN_LINE in p for p in problems)


def test_saved_outputs_instructor_files_and_strays_are_reported(course: Path) -> None:
    nb = source_notebook()
    nb.cells[1].source = "def solve(values):\n    raise NotImplementedError()"
    nb.cells[2].source = "assert solve([]) == []"
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="ok\n")]
    nb.cells[2].execution_count = 3
    write_release(course, nb)
    (course / "release" / "a1" / "instructor").mkdir()
    (course / "release" / "a1" / "instructor" / "key.json").write_text("{}")
    (course / "release" / "a1" / "notes.txt").write_text("stray")
    problems = build.check_release_clean(course / "source", course / "release", "a1")
    assert any("cell 2: has saved outputs" in p for p in problems)
    assert any("key.json: instructor-only file" in p for p in problems)
    assert any("notes.txt: not in source/" in p for p in problems)


def test_missing_release_notebook_and_unreadable_notebook(course: Path) -> None:
    problems = build.check_release_clean(course / "source", course / "release", "a1")
    assert problems == [f"{course / 'release' / 'a1'}: missing (run `course build`)"]
    (course / "release" / "a1").mkdir(parents=True)
    (course / "release" / "a1" / "work.ipynb").write_text("{not json")
    problems = build.check_release_clean(course / "source", course / "release", "a1")
    assert any("cannot be read as a notebook" in p for p in problems)


def test_generic_short_lines_are_not_called_leaks() -> None:
    nb = source_notebook()
    nb.cells[1].source = "def solve(values):\n    ### BEGIN SOLUTION\n    return values\n    ### END SOLUTION"
    assert build.secrets_of(nb) == {HIDDEN_LINE}


def test_build_failure_names_the_assignment(course: Path) -> None:
    shutil.rmtree(course / "source" / "a1")
    with pytest.raises(build.BuildError, match="generate_assignment a1 failed"):
        build.generate_assignment(course, "a1", course / "release")
