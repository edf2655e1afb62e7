"""The machine-checkable part of docs/grading-rules.md, for every notebook in source/."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from notebooks import RELEASE, SOURCE, assignments, error_text, execute, is_autograded_test, nbgrader_meta

ASSESSMENT_SUFFIXES = ("exercises", "checkpoint", "quiz", "exam")
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)


def source_notebooks() -> list[Path]:
    return [nb for a in assignments() for nb in sorted((SOURCE / a).glob("*.ipynb"))]


def core_notebooks() -> list[Path]:
    """Teaching notebooks: not exercises, checkpoints, quizzes, exams or a capstone."""
    return [
        nb
        for nb in source_notebooks()
        if not nb.stem.endswith(ASSESSMENT_SUFFIXES) and nb.parent.name != "capstone"
    ]


def notebook_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("nb_path", source_notebooks(), ids=notebook_id)
def test_checking_cells_have_hidden_tests(nb_path: Path) -> None:
    """`checking()` swallows a stub's NotImplementedError, so hidden tests must call the answer again."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if is_autograded_test(cell) and ".checking()" in cell.source:
            assert "### BEGIN HIDDEN TESTS" in cell.source, (
                f"{notebook_id(nb_path)}: test cell {nbgrader_meta(cell)['grade_id']} uses checking() "
                "but has "
                "no hidden tests, so a stub that raises NotImplementedError would pass it"
            )


@pytest.mark.parametrize("nb_path", source_notebooks(), ids=notebook_id)
def test_written_answers_have_model_answer_and_rubric(nb_path: Path) -> None:
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "markdown" or not meta.get("solution"):
            continue
        where = f"{notebook_id(nb_path)}: written answer {meta.get('grade_id')}"
        assert meta.get("grade") and meta.get("points", 0) > 0, f"{where} is not a graded answer cell"
        region = SOLUTION_REGION.search(cell.source)
        assert region, f"{where} has no ### BEGIN SOLUTION region holding its model answer and rubric"
        assert "**Model answer" in region.group(1), f"{where}: no **Model answer.** in the solution region"
        assert "**Rubric" in region.group(1), f"{where}: no **Rubric (...)** in the solution region"


@pytest.mark.parametrize("nb_path", source_notebooks(), ids=notebook_id)
def test_socratic_answers_are_graded_cells(nb_path: Path) -> None:
    """Socratic answers reach the gradebook and the feedback: they are manually graded answer cells."""
    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if re.fullmatch(r"socratic_\d+", meta.get("grade_id", "")):
            assert meta.get("solution") and meta.get("grade"), (
                f"{notebook_id(nb_path)}: {meta['grade_id']} must be a manually graded answer cell"
            )


@pytest.mark.slow
@pytest.mark.parametrize("nb_path", core_notebooks(), ids=notebook_id)
def test_released_core_notebook_runs_top_to_bottom(nb_path: Path) -> None:
    """A learner who has done no inline exercise yet can still "Run All" and see every explanation."""
    released = RELEASE / nb_path.parent.name / nb_path.name
    nb = nbformat.read(released, as_version=4)
    execute(nb, cwd=released.parent)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = [
        (i, error_text(c)) for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs)
    ]
    assert not failed, (
        f"{notebook_id(nb_path)}: with the release's stubs, code cell {failed[0][0]} of {len(code)} stops "
        f"'Run All':\n{failed[0][1][-1200:]}"
    )
    unrun = [i for i, c in enumerate(code) if c.execution_count is None and c.source.strip()]
    assert not unrun, f"{notebook_id(nb_path)}: code cells {unrun} never ran"
