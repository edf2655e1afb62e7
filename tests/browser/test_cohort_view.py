"""The instructor's cohort view in a real JupyterLab, driven through Chromium.

A generated cohort (benchmarks/cohort_view.py: the course's real assignments and grade cells,
six students graded in a SQLite gradebook, autograded notebooks holding the failed tests'
errors) is served twice: by an instructor's server, where "Cohort view" opens the table of
students and a failing test expands to its message; and by a student's server, where the
command does not exist at all.
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from playwright.sync_api import Page, expect
from test_benchmarks import load

from .conftest import LabServer, _free_port, lab_env, serving
from .test_sidebar import run_from_palette

pytestmark = pytest.mark.browser

STUDENTS = 6
COMMAND_LABEL = "Cohort view"


def _benchmark() -> ModuleType:
    return load("cohort_view")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):
    bench = _benchmark()
    root = bench.make_course_root(tmp_path_factory.mktemp("cohort") / "course")
    return bench.generate_cohort(root, STUDENTS, waiting=1, autograded_notebooks=True)


def _start_lab(tmp: Path, cohort, role: str) -> Iterator[LabServer]:
    workspace = tmp / "workspace"
    workspace.mkdir()
    store_path = tmp / "store.json"
    port, token = _free_port(), secrets.token_hex(16)
    student = cohort.students[0] if role == "student" else "instructor"
    env = lab_env(tmp, COURSE_DB_URL=cohort.db_url)
    command = [
        sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workspace}",
        f"--CourseTracker.course_root={cohort.course_root}",
        f"--CourseTracker.workspace_dir={workspace}",
        f"--CourseTracker.store_path={store_path}",
        f"--CourseTracker.db_url={cohort.db_url}",
        f"--CourseTracker.role={role}",
        f"--CourseTracker.student_id={student}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serving(tmp, command, env, url, token, f"jupyter-server-cohort-{role}.log") as log_path:
        yield LabServer(url, token, workspace, store_path, log_path, student=student)


@pytest.fixture(scope="module")
def instructor_server(tmp_path_factory: pytest.TempPathFactory, cohort) -> Iterator[LabServer]:
    yield from _start_lab(tmp_path_factory.mktemp("instructor"), cohort, "instructor")


@pytest.fixture(scope="module")
def student_server(tmp_path_factory: pytest.TempPathFactory, cohort) -> Iterator[LabServer]:
    yield from _start_lab(tmp_path_factory.mktemp("student"), cohort, "student")


def _open_lab(page: Page, server: LabServer) -> int:
    """Load JupyterLab; return the status the cohort plugin's role probe got."""
    with page.expect_response(re.compile(r"/course-tracker/cohort(\?\d*)?$"), timeout=120_000) as probe:
        page.goto(server.lab_url())
    page.wait_for_selector(".jp-Launcher", timeout=90_000)
    page.wait_for_timeout(500)
    return probe.value.status


def test_instructor_sees_the_cohort_and_a_failing_tests_message(
    page: Page, instructor_server: LabServer, cohort, artifacts: Path
) -> None:
    assert _open_lab(page, instructor_server) == 200
    run_from_palette(page, COMMAND_LABEL)

    view = page.locator(".jp-CourseCohort")
    table = view.locator(".jp-CourseCohort-matrix")
    expect(table).to_be_visible(timeout=60_000)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(STUDENTS)
    for student in cohort.students:
        expect(table.locator(f'tr[data-student="{student}"]')).to_be_visible()
    # graded cells show scores, e.g. "2/2" or "0/1"
    expect(
        table.locator("td.jp-CourseCohort-cell.jp-mod-pass, td.jp-CourseCohort-cell.jp-mod-fail").first
    ).to_have_text(re.compile(r"^(\d+(\.\d+)?/\d+(\.\d+)?|✓|✗)$"))
    expect(view.locator(".jp-CourseCohort-histogram")).to_have_count(
        len({nb.assignment for nb in cohort.notebooks})
    )
    waiting = view.get_by_role("region", name="Waiting for grading")
    expect(waiting.locator("tbody tr")).to_have_count(1)

    # the most-failed test, expanded: its message, read from the autograded notebooks
    top = view.locator(".jp-CourseCohort-failingTest").first
    grade_id = top.locator("code").first.inner_text()
    toggle = top.locator("button.jp-CourseCohort-failingToggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expected = _benchmark().FAILURE_MESSAGE.format(gid=grade_id)
    expect(top.locator(".jp-CourseCohort-message").first).to_have_text(expected, timeout=30_000)
    page.screenshot(path=str(artifacts / "cohort-view.png"), full_page=True)


def test_a_student_has_no_cohort_command(page: Page, student_server: LabServer, artifacts: Path) -> None:
    assert _open_lab(page, student_server) == 403
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#modal-command-palette")
    expect(palette).to_be_visible()
    palette.locator("input").fill("Cohort")
    page.wait_for_timeout(300)
    labels = palette.locator(".lm-CommandPalette-itemLabel").all_inner_texts()
    assert COMMAND_LABEL not in labels, labels
    # the Progress commands are there: the palette itself works
    palette.locator("input").fill("Progress Tracker")
    expect(
        palette.locator(".lm-CommandPalette-itemLabel").filter(has_text="Open Progress Tracker")
    ).to_be_visible()
    page.screenshot(path=str(artifacts / "cohort-student-palette.png"))
