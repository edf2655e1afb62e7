""" "Check my work": real gradings (the fast grader) of the fixture course, by API and directly."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from course_tracker.jobs import CheckRunner, CheckSettings
from nbcourse.grading.submission import GradingProgress, NotebookProgress, grade_submission, grading_label
from nbcourse.nbgrader import NbgraderCourse, copy_submission, gradebook_up_to_date, nbgrader_timestamp

Api = Callable[..., Any]
CHECK_DEADLINE = 600.0  # seconds; a real autograde on a busy, shared 2-core machine


async def wait_for_check(api: Api, check_id: str, seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Poll a check until it ends; every answer is appended to `seen` when given."""
    deadline = time.monotonic() + CHECK_DEADLINE
    while time.monotonic() < deadline:
        status, check, _ = await api("GET", "checks", check_id)
        assert status == 200
        assert 0 <= check["done"] <= check["total"]
        if seen is not None:
            seen.append(check)
        if check["status"] in ("done", "failed"):
            return check
        await asyncio.sleep(0.2)
    raise AssertionError(f"check {check_id} did not finish within {CHECK_DEADLINE} s")


async def test_check_my_work_end_to_end(api: Api, course_root: Path, tools: SimpleNamespace) -> None:
    # A learner's first check: no gradebook yet, so the check must teach it the assignment.
    (course_root / "gradebook.db").unlink()
    release = course_root / "release" / "ps1" / "problem1.ipynb"
    release_before = release.read_bytes()
    notebook = course_root / "workspace" / "ps1" / "problem1.ipynb"
    tools.set_solution(notebook, tools.CORRECT_SOLUTION, answer="I square every index.")

    status, check, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 202
    assert check["assignment"] == "ps1" and check["status"] in ("queued", "running")
    assert check["total"] == 5 and check["started"].endswith("Z")
    assert check["started_at"] == check["started"] and check["elapsed"] >= 0
    assert check["notebooks"][0]["notebook"] == "problem1"
    # A second press while it runs gets the running check, not a second grading.
    status, again, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 202 and again["id"] == check["id"]

    seen: list[dict[str, Any]] = []
    final = await wait_for_check(api, check["id"], seen)
    assert final["status"] == "done", final.get("message")
    assert final["done"] == final["total"] and final["finished"].endswith("Z")
    assert (final["step"], final["step_id"], final["running"]) == ("Done", "done", [])
    assert final["notebooks"][0]["status"] == "graded" and final["notebooks"][0]["seconds"] >= 0
    assert final["elapsed"] > 0
    # What the learner read while it ran: words, not internal step names.
    labels = {c["step"] for c in seen}
    assert not labels & {"prepare", "autograde", "generate_feedback", "copy", "grade"}
    assert final["results"] == [
        {
            "notebook": "problem1",
            "score": 1.0,
            "max_score": 2.0,
            "cells": [
                {
                    "notebook": "problem1",
                    "grade_id": "test_squares",
                    "kind": "test",
                    "score": 1.0,
                    "max_score": 1.0,
                    "passed": True,
                    "message": None,
                },
                {
                    "notebook": "problem1",
                    "grade_id": "explain",
                    "kind": "answer",
                    "score": 0.0,
                    "max_score": 1.0,
                    "passed": None,
                    "message": None,
                },
            ],
        }
    ]
    submitted = course_root / "submitted" / "learner" / "ps1"
    assert (submitted / "problem1.ipynb").is_file()
    assert (submitted / "timestamp.txt").read_text().strip().endswith("UTC")
    assert release.read_bytes() == release_before  # the committed release is never rewritten

    _, tracker, _ = await api("GET", "tracker")
    assert tracker["results_source"] == "gradebook"
    squares = tracker["states"]["m1.core.squares"]
    assert squares["satisfied"] and squares["status"] == "graded"
    assert (squares["score"], squares["max_score"]) == (1.0, 1.0)
    assert tracker["states"]["m1.core.explain"]["satisfied"]
    assert tracker["assignments"][0]["last_check"]["id"] == check["id"]

    status, page, headers = await api("GET", *squares["feedback_url"].split("/")[1:])
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "problem1 (Score: 1.0 / 2.0)" in page
    # Course feedback: the hidden test is not on the page.
    assert "squares(5)" not in page and "BEGIN HIDDEN TESTS" not in page


async def test_malformed_notebook_scores_zero_with_its_reason(api: Api, course_root: Path) -> None:
    (course_root / "workspace" / "ps1" / "problem1.ipynb").write_text("this is not a notebook")
    _, check, _ = await api("POST", "checks", body={"assignment": "ps1"})
    final = await wait_for_check(api, check["id"])
    # The grader never stops for one notebook: it scores 0, and the result says why.
    assert final["status"] == "done", final.get("message")
    [result] = final["results"]
    assert result["score"] == 0 and "unreadable notebook" in result["problem"]
    assert final["notebooks"] == [{"notebook": "problem1", "status": "problem", "seconds": 0.0}]
    assert all(c["score"] == 0 for c in result["cells"])
    # The next check is not blocked.
    status, second, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 202 and second["id"] != check["id"]
    await wait_for_check(api, second["id"])


def _settings(course: Path, **changes: Any) -> CheckSettings:
    values: dict[str, Any] = {
        "course_root": course,
        "workspace_dir": course / "workspace",
        "student": "learner",
        "db_url": f"sqlite:///{course / 'gradebook.db'}",
        "timeout": 240.0,
        "notebooks": {"ps1": ["problem1"]},
    }
    values.update(changes)
    return CheckSettings(**values)


async def test_missing_workspace_folder_fails_with_advice(
    course_root: Path, make_runner: Callable[[CheckSettings], CheckRunner]
) -> None:
    runner = make_runner(_settings(course_root, workspace_dir=course_root / "nowhere"))
    check, created = runner.start("ps1")
    assert created
    final = await runner.wait(check.id)
    assert final.status == "failed" and final.step == "copy"
    assert f"there is no workspace folder {course_root / 'nowhere' / 'ps1'}" in (final.message or "")


async def test_timeout_stops_the_check(
    course_root: Path, make_runner: Callable[[CheckSettings], CheckRunner]
) -> None:
    runner = make_runner(_settings(course_root, timeout=0.3))
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "failed"
    assert "longer than 0.3 s" in (final.message or "")
    assert "CourseTracker.check_timeout" in (final.message or "")


async def test_missing_source_and_gradebook_fails_clearly(
    course_root: Path, make_runner: Callable[[CheckSettings], CheckRunner]
) -> None:
    (course_root / "gradebook.db").unlink()
    runner = make_runner(_settings(course_root, course_root=course_root))
    shutil.rmtree(course_root / "source")
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "failed" and final.step == "prepare"
    assert "source folder" in (final.message or "")


HIDDEN_ONLY_FAILS = "def squares(n):\n    return [0, 1, 4][:n]\n"  # passes the visible test only


@pytest.fixture
def make_runner() -> Iterator[Callable[[CheckSettings], CheckRunner]]:
    """CheckRunners closed (their fork servers stopped) when the test ends."""
    made: list[CheckRunner] = []

    def make(settings: CheckSettings) -> CheckRunner:
        made.append(CheckRunner(settings))
        return made[-1]

    yield make
    for runner in made:
        runner.close()


async def test_progress_messages_and_one_warm_grader(
    course_root: Path, tools: SimpleNamespace, make_runner: Callable[[CheckSettings], CheckRunner]
) -> None:
    runner = make_runner(_settings(course_root))
    runner.warm_up()
    workspace = course_root / "workspace" / "ps1"
    tools.set_solution(workspace / "problem1.ipynb", HIDDEN_ONLY_FAILS)
    seen: list[GradingProgress] = []
    [result] = grade_submission(
        runner.course(),
        "ps1",
        "learner",
        workspace,
        notebooks=["problem1"],
        progress=seen.append,
        executor=runner.grader.get,
    )
    labels = [p.label for i, p in enumerate(seen) if i == 0 or seen[i - 1].label != p.label]
    assert labels[:2] == ["Saving a copy of your work", "Preparing the grader"]
    assert "Grading problem1 (1 of 1)" in labels
    assert labels[-2:] == ["Writing feedback", "Reading your results"]
    assert [p.done for p in seen] == sorted(p.done for p in seen) and {p.total for p in seen} == {5}
    assert any(p.running == ["problem1"] for p in seen)
    # A failed hidden test says it failed; its source (the hidden assert) never shows.
    test = result.cells[0]
    assert (test.grade_id, test.passed, test.score) == ("test_squares", False, 0.0)
    assert test.message is not None and test.message.startswith("AssertionError")
    assert "squares(5)" not in test.message and "[0, 1, 4, 9, 16]" not in test.message

    # Through the runner: the same warm executor serves the next check.
    executor = runner.grader.get()
    assert executor.notes() == []  # the fork server took: kernels are forked, not started cold
    tools.set_solution(workspace / "problem1.ipynb", tools.WRONG_SOLUTION)
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "done", final.message
    assert runner.grader.get() is executor
    cell = final.to_json()["results"][0]["cells"][0]
    assert (cell["passed"], cell["message"]) == (False, "AssertionError: squares(3) should be [0, 1, 4]")

    # Shut down: the grader is gone and a check says so instead of hanging.
    runner.close()
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "failed" and "the server is shutting down" in (final.message or "")


def test_copy_submission_replaces_old_files(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.ipynb").write_text("{}")
    (workspace / "notes.txt").write_text("not a notebook")
    submitted = tmp_path / "submitted" / "learner" / "ps1"
    submitted.mkdir(parents=True)
    (submitted / "stale.ipynb").write_text("{}")
    when = datetime(2026, 11, 27, 21, 5, 3, 120000, tzinfo=timezone.utc)
    assert copy_submission(workspace, submitted, when) == ["a"]
    assert sorted(p.name for p in submitted.iterdir()) == ["a.ipynb", "timestamp.txt"]
    assert (submitted / "timestamp.txt").read_text() == "2026-11-27 21:05:03.120000 UTC\n"
    assert nbgrader_timestamp(when) == "2026-11-27 21:05:03.120000 UTC"


def test_gradebook_freshness_follows_the_source(course_root: Path) -> None:
    settings = _settings(course_root)
    course = NbgraderCourse.load(course_root)

    def up_to_date(assignment: str) -> bool:
        return gradebook_up_to_date(course, settings.db_url, assignment, settings.notebooks[assignment])

    assert up_to_date("ps1")  # generate_assignment recorded this very source
    source = course_root / "source" / "ps1" / "problem1.ipynb"
    original = source.read_text()
    # A course update changes a hidden test: the gradebook must learn it before grading.
    source.write_text(original.replace("[0, 1, 4, 9, 16]", "[0, 1, 4, 9, 16] and True"))
    assert not up_to_date("ps1")
    source.write_text(original)
    assert up_to_date("ps1")
    # A notebook the gradebook has never seen.
    settings.notebooks["ps1"].append("problem2")
    assert not up_to_date("ps1")
    settings.notebooks["ps1"].remove("problem2")
    (course_root / "gradebook.db").unlink()
    assert not up_to_date("ps1")


def test_grading_label_names_what_runs_and_where_it_is() -> None:
    def rows(*statuses: str) -> list[NotebookProgress]:
        return [NotebookProgress(f"0{i + 1}_nb", status) for i, status in enumerate(statuses)]  # type: ignore[arg-type]

    assert grading_label(rows("waiting", "waiting", "waiting")) == "Grading"
    assert grading_label(rows("graded", "running", "waiting")) == "Grading 02_nb (2 of 3)"
    assert grading_label(rows("running", "running", "waiting")) == "Grading 01_nb, 02_nb (1–2 of 3)"
    assert grading_label(rows("problem", "graded", "running")) == "Grading 03_nb (3 of 3)"


@pytest.mark.parametrize("warm", [True, False])
def test_the_grader_warms_up_when_the_server_starts(
    warm: bool, tracker_config: dict, course_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from traitlets.config import Config, Configurable

    import course_tracker
    from course_tracker import jobs

    started: list[object] = []
    monkeypatch.setattr(jobs.WarmGrader, "start", lambda self: started.append(self))
    app = Configurable(config=Config({"CourseTracker": {**tracker_config, "warm_checks": warm}}))
    app.root_dir = str(course_root)  # type: ignore[attr-defined]
    app.log = logging.getLogger("test")  # type: ignore[attr-defined]
    app.web_app = SimpleNamespace(settings={"base_url": "/"}, add_handlers=lambda *_: None)  # type: ignore[attr-defined]
    course_tracker._load_jupyter_server_extension(app)
    assert len(started) == (1 if warm else 0)
