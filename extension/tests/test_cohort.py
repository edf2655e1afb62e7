"""The instructor's cohort view: students × items from the gradebook, 403 for a student."""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from nbcourse.nbgrader import NbgraderCourse
from nbcourse.tracker.cohort import report_cell

pytestmark = pytest.mark.slow  # grades a second student with real nbgrader


@pytest.fixture(scope="module")
def cohort_template(tmp_path_factory: pytest.TempPathFactory, graded_template: Path, tools) -> Path:
    """The graded fixture course plus a second student whose solution is wrong, and a third waiting."""
    course = tmp_path_factory.mktemp("cohort") / "course"
    shutil.copytree(graded_template, course)
    tools.submit(course, tools.WRONG_SOLUTION, answer="doubling", student="bob")
    tools.run_nbgrader(course, "autograde", tools.ASSIGNMENT, "--student", "bob", "--force")
    tools.submit(course, tools.CORRECT_SOLUTION, student="carol")  # submitted, never graded
    # bob shares his progress; learner does not (private by default)
    shared = NbgraderCourse(course).submitted_dir("bob", tools.ASSIGNMENT) / "shared-progress.json"
    shared.write_text(json.dumps({"items": {"m1.reflect.q1": True, "m1.reflect.name": "Bob"}}))
    return course


@pytest.fixture
def course_source(cohort_template: Path) -> Path:
    return cohort_template


@pytest.fixture
def tracker_config(tracker_config: dict[str, Any]) -> dict[str, Any]:
    return {**tracker_config, "role": "instructor"}


async def test_cohort_matrix_distributions_failures_and_waiting(api, tools) -> None:
    status, report, _ = await api("GET", "cohort")
    assert status == 200, report
    assert report["students"] == ["bob", "carol", tools.STUDENT]
    assert all(len(report["matrix"][s]) == len(report["items"]) for s in report["students"])
    learner, bob, carol = (
        functools.partial(report_cell, report, student) for student in (tools.STUDENT, "bob", "carol")
    )
    assert learner("m1.core.squares")["satisfied"] is True
    assert bob("m1.core.squares")["satisfied"] is False and bob("m1.core.squares")["score"] == 0
    assert carol("m1.core.squares")["status"] == "not_graded"
    # private by default; shared only where the student chose to
    assert learner("m1.reflect.q1") == {"status": "private"}
    assert bob("m1.reflect.q1")["status"] == "shared" and bob("m1.reflect.name")["value"] == "Bob"
    assert report["shared_by"] == ["bob"]

    (dist,) = report["distributions"]
    assert dist["graded"] == 2 and dist["max_score"] > 0 and sum(dist["histogram"]) == 2

    failing = report["failing"]
    assert failing and failing[0]["grade_id"] == "test_squares"
    assert failing[0]["failed"] == 1 and failing[0]["graded"] == 2 and failing[0]["students"] == ["bob"]
    assert [w["student"] for w in report["ungraded"]] == ["carol"]

    status, detail, _ = await api(
        "GET", "cohort", "failures", tools.ASSIGNMENT, tools.NOTEBOOK, "test_squares"
    )
    assert status == 200, detail
    assert detail["messages"] and detail["messages"][0]["count"] == 1
    assert detail["messages"][0]["message"].startswith("AssertionError")


async def test_cohort_csv_export(api, tools) -> None:
    status, text, headers = await api("GET", "cohort.csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "student" and "m1.core.squares" in rows[0]
    col = rows[0].index("m1.core.squares")
    by_student = {r[0]: r for r in rows[1:]}
    assert set(by_student) == {"bob", "carol", tools.STUDENT}
    assert by_student["bob"][col].startswith("0/") and by_student["carol"][col] == ""


async def test_unknown_failing_cell_is_404(api, tools) -> None:
    status, body, _ = await api("GET", "cohort", "failures", tools.ASSIGNMENT, tools.NOTEBOOK, "nope")
    assert status == 404 and "nope" in body["message"]


class TestStudentServer:
    @pytest.fixture
    def tracker_config(self, tracker_config: dict[str, Any]) -> dict[str, Any]:
        return {**tracker_config, "role": "student"}

    @pytest.mark.parametrize(
        "path", [("cohort",), ("cohort.csv",), ("cohort", "failures", "ps1", "problem1", "x")]
    )
    async def test_a_student_gets_403(self, api, path) -> None:
        status, body, _ = await api("GET", *path)
        assert status == 403, body
        assert "instructor" in body["message"]
