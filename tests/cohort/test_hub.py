"""A cohort on a real JupyterHub, end to end, with a PostgreSQL gradebook.

An instructor releases Module 1 through nbgrader's exchange; two students (real Unix users, PAM
login) fetch it, one solves it fully and one partly, both submit; the grader collects, grades and
releases feedback; each student fetches it, and their sidebar — through the hub's proxy, with their
own token — shows their own scores and never the other's. What each role can and cannot reach is
asserted, and a real Chromium drives the student's sidebar through the hub.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from grading.leaks import hidden_lines, leaks

from cohort.hub import REPO, Cohort, HubUser, deploy_cohort, login, run
from cohort.postgres import pg_bin, postgres_cluster
from nbcourse.tracker.cohort import report_cell

pytestmark = [pytest.mark.hub, pytest.mark.postgres, pytest.mark.slow]

ASSIGNMENT = "m1_data_engineering"
EXERCISE_ITEMS = ["m1.exercises.1", "m1.exercises.2", "m1.exercises.3"]


def solve(user: HubUser, *, fully: bool) -> None:
    """Put answers into the student's fetched notebooks: all of them, or only exercise notebook 1.1's."""
    fetched = user.home / ASSIGNMENT
    for nb_path in sorted(fetched.glob("*.ipynb")):
        source = nbformat.read(REPO / "source" / ASSIGNMENT / nb_path.name, as_version=4)
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in source.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("solution")
        }
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in answers and (fully or grade_id.startswith("ex1_1")):
                cell.source = answers[grade_id]
        nbformat.write(nb, nb_path)
        shutil.chown(nb_path, user.name, user.name)


def tracker_states(cohort: Cohort, user: HubUser) -> dict:
    status, raw = cohort.user_get(user, "course-tracker/tracker")
    assert status == 200, f"{user.name}'s sidebar through the hub: {status} {raw[:500]!r}"
    tracker = json.loads(raw)
    assert tracker["student"] == user.name
    return tracker["states"]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cohort]:
    with postgres_cluster() as cluster:
        db_url = cluster.create_database("gradebook")
        with deploy_cohort(db_url, ASSIGNMENT) as deployed:
            yield deployed


@pytest.fixture(scope="module")
def graded(cohort: Cohort) -> Cohort:
    """Release → fetch → solve → submit → collect → grade → feedback → fetch feedback."""
    full, partial = cohort.students
    cohort.as_grader("generate_assignment", ASSIGNMENT, "--force")
    cohort.as_grader("release_assignment", ASSIGNMENT, "--force")
    for student in (full, partial):
        status, _ = login(cohort.url, student)
        assert status in (200, 302), f"{student.name} could not log in through the hub: {status}"
        cohort.start_server(student)
        cohort.as_student(student, "fetch_assignment", ASSIGNMENT)
    solve(full, fully=True)
    solve(partial, fully=False)
    for student in (full, partial):
        cohort.as_student(student, "submit", ASSIGNMENT)
    cohort.as_grader("collect", ASSIGNMENT)
    cohort.as_grader("grade", ASSIGNMENT, tool="course")  # sandboxed; the gradebook is PostgreSQL
    cohort.as_grader("feedback", ASSIGNMENT, tool="course")  # stock feedback would print hidden tests
    cohort.as_grader("release_feedback", ASSIGNMENT)
    for student in (full, partial):
        cohort.as_student(student, "fetch_feedback", ASSIGNMENT)
    return cohort


def test_each_student_sees_their_own_scores_through_the_hub(graded: Cohort) -> None:
    full, partial = graded.students
    full_states = tracker_states(graded, full)
    partial_states = tracker_states(graded, partial)
    for item in EXERCISE_ITEMS:
        state = full_states[item]
        assert state["status"] == "graded" and state["score"] == state["max_score"] > 0, (item, state)
    assert partial_states["m1.exercises.1"]["score"] == partial_states["m1.exercises.1"]["max_score"]
    assert any(partial_states[i]["score"] < partial_states[i]["max_score"] for i in EXERCISE_ITEMS[1:]), (
        "the partly solved submission must not show full marks on exercises it left undone"
    )


def test_the_instructor_reads_the_cohort_view_and_a_student_cannot(graded: Cohort) -> None:
    """The instructor's server (staff group: reads the grader's directory; the gradebook URL from the
    hub) serves the cohort view through the hub; a student gets 403 on their own server and cannot
    reach the instructor's."""
    full, partial = graded.students
    instructor = graded.instructor
    status, _ = login(graded.url, instructor)
    assert status in (200, 302), f"the instructor could not log in through the hub: {status}"
    graded.start_server(instructor)
    status, raw = graded.user_get(instructor, "course-tracker/cohort")
    assert status == 200, raw[:1000]
    report = json.loads(raw)
    assert {full.name, partial.name} <= set(report["students"])
    for item in EXERCISE_ITEMS:
        cell = report_cell(report, full.name, item)
        assert cell["satisfied"] is True and cell["score"] == cell["max_score"] > 0, (item, cell)
    assert any(not report_cell(report, partial.name, item)["satisfied"] for item in EXERCISE_ITEMS[1:])
    (dist,) = [d for d in report["distributions"] if d["assignment"] == ASSIGNMENT]
    assert dist["graded"] == 2
    status, csv_body = graded.user_get(instructor, "course-tracker/cohort.csv")
    assert status == 200 and full.name in csv_body.decode() and partial.name in csv_body.decode()

    status, body = graded.user_get(full, "course-tracker/cohort")
    assert status == 403, body[:300]
    status, _ = graded.user_get(instructor, "course-tracker/cohort", as_user=full)
    assert status in (403, 404), f"{full.name} read the instructor's cohort view: {status}"


def test_a_student_cannot_reach_another_students_server_or_feedback(graded: Cohort) -> None:
    full, partial = graded.students
    status, _ = graded.user_get(partial, "course-tracker/tracker", as_user=full)
    assert status in (403, 404), f"{full.name} read {partial.name}'s tracker: {status}"
    status, _ = graded.user_get(partial, "api/contents/", as_user=full)
    assert status in (403, 404), f"{full.name} listed {partial.name}'s files: {status}"
    # On their own server, a path out of their home is refused too.
    for path in (
        f"course-tracker/feedback/{ASSIGNMENT}/..%2F..%2F{partial.name}%2F{ASSIGNMENT}",
        f"api/contents/..%2F{partial.name}",
    ):
        status, _ = graded.user_get(full, path)
        assert status in (400, 403, 404), f"{path}: {status}"
    # The operating system agrees: another student's home is closed.
    proc = run(["cat", str(partial.home / ASSIGNMENT / "01_exercises.ipynb")], user=full.name, check=False)
    assert proc.returncode != 0 and "Permission denied" in proc.stderr


def test_a_student_cannot_reach_source_instructor_data_or_the_gradebook(graded: Cohort) -> None:
    full = graded.students[0]
    for secret in (
        graded.grader / "source" / ASSIGNMENT / "01_exercises.ipynb",
        graded.grader / "data" / "instructor" / "pokemon_drop_v2_issues.json",
        graded.grader / "nbgrader_config.py",
    ):
        proc = run(["cat", str(secret)], user=full.name, check=False)
        assert proc.returncode != 0, f"{full.name} read {secret}"
    assert not (graded.image / "data" / "instructor").exists(), (
        "the course image must not hold instructor data"
    )
    # The gradebook is PostgreSQL over TCP with a password only the grader's environment holds.
    port = graded.db_url.rsplit(":", 1)[1].split("/")[0]
    proc = run(
        [
            pg_bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-w",
            "-c",
            "select 1",
            "gradebook",
        ],
        user=full.name,
        check=False,
    )
    assert proc.returncode != 0, "a student connected to the gradebook without its password"


def test_no_hidden_test_reaches_a_student(graded: Cohort) -> None:
    """Fetched feedback and the released notebooks: no hidden-test line, no instructor-only path.

    Per notebook (a line hidden in one notebook may be public in another), with the same detector
    as tests/test_grade_feedback.py. The students' own notebooks are left out: a solved answer may
    legitimately repeat a line that a hidden test also has.
    """
    secrets = {
        nb.stem: hidden_lines(nb, REPO / "release" / ASSIGNMENT / nb.name)
        for nb in (REPO / "source" / ASSIGNMENT).glob("*.ipynb")
    }
    assert any(secrets.values()), "module 1 has hidden tests"
    pages = [p for s in graded.students for p in (s.home / ASSIGNMENT / "feedback").rglob("*.html")]
    assert len(pages) >= 2 * len(secrets), "every student fetched a feedback page per notebook"
    # (The exchange's copies of these pages, named by a hash, are the same files a student fetches.)
    found = [line for page in pages for line in leaks(page, secrets[page.stem], ["data/instructor"])]
    for released in graded.exchange.rglob("*.ipynb"):
        lines = {line.strip() for line in released.read_text(errors="replace").splitlines()}
        found += [f"{released.name}: {line!r}" for line in sorted(lines & secrets.get(released.stem, set()))]
    assert not found, f"hidden test text reachable by students: {found[:5]}"


def test_student_sidebar_in_chromium_through_the_hub(graded: Cohort, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    full = graded.students[0]
    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), "Debian's chromium is needed (apt-get install -y chromium)"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=args, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{graded.url}/hub/login")
            page.fill("input[name=username]", full.name)
            page.fill("input[name=password]", full.password)
            page.click("input[type=submit], button[type=submit]")
            page.goto(f"{graded.url}/user/{full.name}/lab")
            page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
            panel = page.locator("#course-tracker-panel")
            if not panel.is_visible():
                page.locator('.jp-SideBar [data-id="course-tracker-panel"]').click()
            row = panel.locator(f'li[data-item-id="{EXERCISE_ITEMS[0]}"]')
            status = row.locator(".jp-CourseTracker-status")
            expect(status).to_have_attribute("data-status", "graded", timeout=60_000)
            expect(status).to_have_text("all tests pass")
            score = row.locator(".jp-CourseTracker-score").inner_text()
            assert re.fullmatch(r"(\d+) / \1", score.strip()), score
            artifacts = REPO / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "hub-student-sidebar.png"))
        finally:
            browser.close()


def test_stock_nbgrader_commands_still_work_for_the_grader(graded: Cohort) -> None:
    proc = graded.as_grader("export", "--to", str(graded.grader / "grades.csv"))
    assert proc.returncode == 0
    rows = (graded.grader / "grades.csv").read_text().splitlines()
    assert sum(ASSIGNMENT in r for r in rows) == len(graded.students)
