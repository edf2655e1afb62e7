"""`course grade` as an instructor runs it: resumable after `kill -9`, `--force` and `--student`,
plain progress lines off a terminal, and a summary naming every student with a problem."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from grading.cohort import cohort, submit_all
from grading.compare import all_grades

from notebooks import COURSE_CLI, course_cli_env, course_grade, make_course

pytestmark = pytest.mark.slow

ASSIGNMENT = "m1_data_engineering"
NOTEBOOK = "01_exercises"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five students who submitted only 01_exercises: four solved it, one left the stubs."""
    from nbcourse.nbgrader import NbgraderCourse

    root = make_course(tmp_path_factory.mktemp("grade"), ASSIGNMENT)
    nbc = NbgraderCourse.load(root)
    subs = {s.student: s for s in cohort(nbc.source_dir(ASSIGNMENT), nbc.release_dir(ASSIGNMENT), [])}
    solved = {NOTEBOOK: subs["reference"].notebooks[NOTEBOOK]}
    blank = {NOTEBOOK: subs["blank"].notebooks[NOTEBOOK]}
    people = [type(subs["reference"])(f"s{i}", solved) for i in range(1, 5)]
    people.append(type(subs["blank"])("stubs", blank))
    submit_all(root, ASSIGNMENT, people, nbc.step_root(nbc.coursedir.submitted_directory))
    return root


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return course_grade(course, ASSIGNMENT, *args)


def exercise_scores(course: Path) -> dict[str, float]:
    totals: dict[str, float] = {}
    for (student, notebook, _gid), (score, _max, _manual) in all_grades(
        course / "gradebook.db", ASSIGNMENT
    ).items():
        if notebook == NOTEBOOK:
            totals[student] = totals.get(student, 0.0) + (score or 0.0)
    return totals


def _records_done(course: Path) -> int:
    folder = course / ".nbcourse" / "grade" / ASSIGNMENT
    done = 0
    for record in folder.glob("*.json") if folder.is_dir() else []:
        if record.name.startswith("_"):
            continue
        with contextlib.suppress(OSError, ValueError):
            done += NOTEBOOK in json.loads(record.read_text()).get("notebooks", {})
    return done


def test_killed_mid_batch_the_next_run_grades_only_what_is_left(course: Path) -> None:
    proc = subprocess.Popen(
        [COURSE_CLI, "--root", str(course), "grade", ASSIGNMENT, "--workers", "1"],
        env=course_cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while _records_done(course) < 1 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the grader and everything it started, at once
    proc.wait()
    done_before = _records_done(course)
    assert 1 <= done_before < 5, "the kill should land mid-batch"

    again = grade(course)
    assert again.returncode in (0, 1), again.stdout + again.stderr
    first_line = next(line for line in again.stdout.splitlines() if line.startswith(f"{ASSIGNMENT}: graded"))
    graded_now = int(first_line.split("graded ")[1].split(" ")[0])
    assert graded_now <= 3 * (5 - done_before) + 3, first_line  # not everything from scratch
    scores = exercise_scores(course)
    assert scores == {"s1": 15.0, "s2": 15.0, "s3": 15.0, "s4": 15.0, "stubs": 0.0}, scores
    # One submission per student: nothing was duplicated by grading twice.
    from nbcourse.nbgrader import open_gradebook

    with open_gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions(ASSIGNMENT)) == sorted(scores)


def test_a_second_run_grades_nothing_and_force_or_student_regrade(course: Path) -> None:
    if len(exercise_scores(course)) < 5:
        grade(course)
    idle = grade(course)
    assert f"{ASSIGNMENT}: graded 0 notebook(s)" in idle.stdout, idle.stdout
    one = grade(course, "--student", "s2", "--force")
    assert one.returncode in (0, 1), one.stdout + one.stderr
    assert "s2/" in one.stdout and "s1/" not in one.stdout, one.stdout
    assert exercise_scores(course)["s2"] == 15.0
    unknown = grade(course, "--student", "nobody")
    assert unknown.returncode != 0 and "nobody" in unknown.stdout + unknown.stderr


def test_plain_progress_and_a_summary_that_names_problems(course: Path) -> None:
    # A notebook that is not JSON: the batch goes on, and the summary says who and why.
    from nbcourse.nbgrader import NbgraderCourse

    broken = NbgraderCourse.load(course).submitted_dir("s3", ASSIGNMENT) / f"{NOTEBOOK}.ipynb"
    good = broken.read_text(encoding="utf-8")
    broken.write_text('{"cells": [ <<<<<<< HEAD\n', encoding="utf-8")
    try:
        run = grade(course, "--force")
    finally:
        broken.write_text(good, encoding="utf-8")
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "s1/01_exercises" in out and "15/15" in out, out  # a line per notebook as it finishes
    assert "student(s) with a problem" in out and "s3: 01_exercises: unreadable notebook" in out, out
    assert exercise_scores(course)["s3"] == 0.0 and exercise_scores(course)["s4"] == 15.0
    grade(course, "--student", "s3", "--force")
    assert exercise_scores(course)["s3"] == 15.0
