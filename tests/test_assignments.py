"""Every assignment, graded by stock `nbgrader autograde` exactly as an instructor would.

The reference solution must score full marks on every autograded cell; the released notebook, with
its stubs untouched, must score zero on every one of them without crashing the grader. A test that
a stub passes is a test that grades nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notebooks import RELEASE, SOURCE, assignments, make_course, nbgrader, scores, submit

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("autograde")]


@pytest.fixture(scope="module", params=assignments())
def graded_course(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    assignment = request.param
    course = make_course(tmp_path_factory.mktemp(assignment), assignment)
    submit(course, assignment, "reference", SOURCE / assignment)
    submit(course, assignment, "stub", RELEASE / assignment)
    nbgrader(course, "autograde", assignment, "--force")
    return assignment, course


def test_reference_solution_scores_full_marks(graded_course: tuple[str, Path]) -> None:
    assignment, course = graded_course
    cells = [c for c in scores(course, assignment, "reference") if c.autograded]
    assert cells, f"{assignment} has no autograded cells"
    short = [f"{c.notebook}:{c.grade_id} {c.score}/{c.max_score}" for c in cells if c.score != c.max_score]
    assert not short, f"reference solution of {assignment} lost points: {short}"


def test_release_stubs_score_zero(graded_course: tuple[str, Path]) -> None:
    assignment, course = graded_course
    cells = [c for c in scores(course, assignment, "stub") if c.autograded]
    assert cells, f"{assignment}: the stub submission was not graded"
    passing = [f"{c.notebook}:{c.grade_id} {c.score}/{c.max_score}" for c in cells if c.score != 0]
    assert not passing, f"tests of {assignment} pass on an untouched stub (they grade nothing): {passing}"


def test_every_notebook_was_graded(graded_course: tuple[str, Path]) -> None:
    assignment, course = graded_course
    graded = {c.notebook for c in scores(course, assignment, "reference")}
    expected = {p.stem for p in (SOURCE / assignment).glob("*.ipynb")}
    assert graded == expected
