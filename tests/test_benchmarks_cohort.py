"""The cohort view benchmark's generated gradebook, read back through the instructor's CohortService.

No timing here (that is benchmarks/cohort_view.py's job): a small cohort is generated and the
report must account for every student, every graded notebook, the failed tests and the waiting
submissions the generator made.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from types import ModuleType

import pytest
from test_benchmarks import load

from nbcourse.tracker.cohort import report_cell

STUDENTS = 20


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load("cohort_view")


@pytest.fixture(scope="module")
def generated(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory):
    root = bench.make_course_root(tmp_path_factory.mktemp("cohort") / "course")
    cohort = bench.generate_cohort(root, STUDENTS, waiting=2, autograded_notebooks=True)
    service = bench.cohort_service(root, cohort.db_url)
    return cohort, service, service.report()


def test_the_cohort_is_the_real_course(generated) -> None:
    cohort, service, _ = generated
    manifest = service.tracker.manifest()
    expected = {(a.id, nb) for a in manifest.assignments for nb in a.notebooks}
    assert {(nb.assignment, nb.name) for nb in cohort.notebooks} == expected
    assert all(nb.cells for nb in cohort.notebooks)  # every notebook has grade cells


def test_every_student_and_every_graded_cell_is_in_the_report(generated) -> None:
    cohort, _, report = generated
    assert report["students"] == sorted(cohort.students)
    auto = [i for i in report["items"] if i["kind"] == "auto"]
    assert auto
    for student in cohort.students:
        row = report["matrix"][student]
        assert len(row) == len(report["items"])
        assert all(report_cell(report, student, i["id"])["status"] == "graded" for i in auto), student
    for dist in report["distributions"]:
        assert dist["graded"] == STUDENTS and sum(dist["histogram"]) == STUDENTS
        assert dist["max_score"] == sum(
            c.points for nb in cohort.notebooks if nb.assignment == dist["assignment"] for c in nb.cells
        )


def test_every_cell_is_what_the_learners_own_sidebar_rule_says(generated) -> None:
    """The cohort view judges students in groups from a table; the sidebar judges one learner from
    their own grades. Every student's every auto cell must be what the learner's reader and rule give."""
    from nbcourse.nbgrader import open_gradebook, read_student_grades
    from nbcourse.tracker.cohort import GRADE_RULES, SUBMITTED, graded_cell

    cohort, service, report = generated
    course = service.tracker.nbgrader()
    items = {i.id: i for i in service.tracker.manifest().iter_items()}
    auto = [i["id"] for i in report["items"] if i["kind"] == "auto"]
    assignments = [a.id for a in service.tracker.manifest().assignments]
    checked = 0
    with open_gradebook(cohort.db_url) as gb:
        for student in cohort.students:
            grades = read_student_grades(gb, course, student, assignments) or {}
            for item_id in auto:
                spec = items[item_id].auto
                grade = grades.get((spec.assignment, spec.notebook))
                if grade is None:
                    expected = {"status": "not_graded", "satisfied": False}
                elif spec.rule in GRADE_RULES:
                    expected = graded_cell(spec, grade)
                else:
                    expected = SUBMITTED
                assert report_cell(report, student, item_id) == expected, (student, item_id)
                checked += 1
    assert checked == len(cohort.students) * len(auto)
    # the generated cohort is varied enough for the grouping to matter
    assert len({json.dumps(c, sort_keys=True) for c in report["cells"]}) > 20


def test_failed_tests_are_counted_and_their_messages_read(generated, bench: ModuleType) -> None:
    cohort, service, report = generated
    failing = report["failing"]
    assert failing
    for entry in failing:
        key = (entry["assignment"], entry["notebook"], entry["grade_id"])
        who = sorted(s for s, *rest in cohort.failed if tuple(rest) == key)
        assert sorted(entry["students"]) == who and entry["failed"] == len(who)
        assert entry["graded"] == STUDENTS
    top = failing[0]
    detail = service.failures(top["assignment"], top["notebook"], top["grade_id"])
    assert detail["messages"] == [
        {"message": bench.FAILURE_MESSAGE.format(gid=top["grade_id"]), "count": top["failed"]}
    ]


def test_resubmissions_wait_for_grading_and_the_csv_has_every_student(generated) -> None:
    cohort, service, report = generated
    assert {(w["student"], w["assignment"]) for w in report["ungraded"]} == set(cohort.waiting)
    assert all(w["reason"] == "resubmitted since grading" for w in report["ungraded"])
    rows = list(csv.reader(io.StringIO(service.csv())))
    assert [r[0] for r in rows[1:]] == sorted(cohort.students)
    assert len(rows[0]) == 1 + len(report["items"])


def test_the_generated_course_stays_out_of_the_repository(generated) -> None:
    cohort, _, _ = generated
    root = Path(cohort.course_root)
    assert (root / "submitted").is_dir() and (root / "gradebook.db").is_file()
    assert not Path(__file__).resolve().parents[1].joinpath("submitted", cohort.students[0]).exists()


@pytest.mark.postgres
def test_a_postgres_gradebook_gives_the_same_report(bench: ModuleType, tmp_path: Path, generated) -> None:
    """The cohort read's bare SQL (values inlined, driver rows) on PostgreSQL, against SQLite's."""
    from cohort.postgres import postgres_cluster

    _, _, sqlite_report = generated
    root = bench.make_course_root(tmp_path / "course")
    with postgres_cluster() as cluster:
        db_url = cluster.create_database("gradebook")
        cohort = bench.generate_cohort(root, STUDENTS, waiting=2, db_url=db_url)
        report = bench.cohort_service(root, db_url).report()
    # same seed, same cohort: everything but the submission times' time zone handling must match
    assert report["students"] == sqlite_report["students"] == sorted(cohort.students)
    assert report["matrix"] == sqlite_report["matrix"]
    assert report["distributions"] == sqlite_report["distributions"]
    assert report["failing"] == sqlite_report["failing"]
    assert report["ungraded"] == sqlite_report["ungraded"]


def test_warm_up_builds_the_report_before_anyone_asks(bench: ModuleType, generated) -> None:
    """What an instructor's server does at start: the first look is then a cached read."""
    cohort, _, report = generated
    service = bench.cohort_service(cohort.course_root, cohort.db_url)
    service.warm_up()
    deadline = time.monotonic() + 60
    while service._report is None and time.monotonic() < deadline:
        time.sleep(0.05)
    built = service._report
    assert built is not None, "the warm-up did not build the report within 60 s"
    assert service.report() is built  # served from the cache, not rebuilt
    assert built["students"] == report["students"] and built["cells"] == report["cells"]
