"""Every assignment, graded by `course grade` exactly as an instructor would (sandboxed, forked kernels).

The reference solution must score full marks on every autograded cell; the released notebook, with
its stubs untouched, must score zero on every one of them without crashing the grader. A test that
a stub passes is a test that grades nothing.

Stock `nbgrader autograde` gives the same score on every cell (tests/test_grade_parity.py: Module 1
with every wrong answer in CI; `NBCOURSE_PARITY=all` for every assignment).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from notebooks import RELEASE, SOURCE, assignments, course_grade, make_course, scores, submit

pytestmark = pytest.mark.slow


# One test per assignment, so the two-student grading (a minute) runs once even when tests are
# spread over several workers.
@pytest.mark.parametrize("assignment", assignments())
def test_reference_scores_full_marks_and_released_stubs_score_zero(assignment: str, tmp_path: Path) -> None:
    course = make_course(tmp_path, assignment)
    submit(course, assignment, "reference", SOURCE / assignment)
    submit(course, assignment, "stub", RELEASE / assignment)
    graded = course_grade(course, assignment)
    # 0: every notebook ran (a stub's failing test cells are scores, not problems).
    assert graded.returncode == 0, f"course grade {assignment} failed:\n{graded.stdout}\n{graded.stderr}"

    reference = scores(course, assignment, "reference")
    expected = {p.stem for p in (SOURCE / assignment).glob("*.ipynb")}
    assert {c.notebook for c in reference} == expected, "every notebook must be graded"

    cells = [c for c in reference if c.autograded]
    assert cells, f"{assignment} has no autograded cells"
    short = [f"{c.notebook}:{c.grade_id} {c.score}/{c.max_score}" for c in cells if c.score != c.max_score]
    assert not short, f"reference solution of {assignment} lost points: {short}"

    stubs = [c for c in scores(course, assignment, "stub") if c.autograded]
    assert len(stubs) == len(cells), f"{assignment}: the stub submission was not fully graded"
    passing = [f"{c.notebook}:{c.grade_id} {c.score}/{c.max_score}" for c in stubs if c.score != 0]
    assert not passing, f"tests of {assignment} pass on an untouched stub (they grade nothing): {passing}"
