""""Check my work": real nbgrader runs on the fixture course, through the API and directly."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from course_tracker.jobs import CheckRunner, CheckSettings
from nbcourse.nbgrader import NbgraderCourse, copy_submission, gradebook_up_to_date, nbgrader_timestamp

Api = Callable[..., Any]
CHECK_DEADLINE = 600.0  # seconds; a real autograde on a busy, shared 2-core machine


async def wait_for_check(api: Api, check_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + CHECK_DEADLINE
    while time.monotonic() < deadline:
        status, check, _ = await api("GET", "checks", check_id)
        assert status == 200
        assert 0 <= check["done"] <= check["total"]
        if check["status"] in ("done", "failed"):
            return check
        await asyncio.sleep(0.5)
    raise AssertionError(f"check {check_id} did not finish within {CHECK_DEADLINE} s")


async def test_check_my_work_end_to_end(
    api: Api, course_root: Path, tools: SimpleNamespace
) -> None:
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
    # A second press while it runs gets the running check, not a second nbgrader job.
    status, again, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 202 and again["id"] == check["id"]

    final = await wait_for_check(api, check["id"])
    assert final["status"] == "done", final.get("message")
    assert final["done"] == final["total"] and final["finished"].endswith("Z")
    assert final["results"] == [{
        "notebook": "problem1", "score": 1.0, "max_score": 2.0,
        "cells": [
            {"grade_id": "test_squares", "score": 1.0, "max_score": 1.0},
            {"grade_id": "explain", "score": 0.0, "max_score": 1.0},
        ],
    }]
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


async def test_nbgrader_failure_ends_failed_with_log_tail(api: Api, course_root: Path) -> None:
    (course_root / "workspace" / "ps1" / "problem1.ipynb").write_text("this is not a notebook")
    _, check, _ = await api("POST", "checks", body={"assignment": "ps1"})
    final = await wait_for_check(api, check["id"])
    assert final["status"] == "failed"
    assert final["message"].startswith("nbgrader autograde failed (exit code")
    assert "The end of its log:" in final["message"]
    assert "results" not in final
    # A failed check does not block the next one.
    status, second, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 202 and second["id"] != check["id"]
    await wait_for_check(api, second["id"])


def _settings(course: Path, **changes: Any) -> CheckSettings:
    values: dict[str, Any] = {
        "course_root": course, "workspace_dir": course / "workspace", "student": "learner",
        "db_url": f"sqlite:///{course / 'gradebook.db'}", "timeout": 240.0,
        "notebooks": {"ps1": ["problem1"]},
    }
    values.update(changes)
    return CheckSettings(**values)


async def test_missing_workspace_folder_fails_with_advice(course_root: Path) -> None:
    runner = CheckRunner(_settings(course_root, workspace_dir=course_root / "nowhere"))
    check, created = runner.start("ps1")
    assert created
    final = await runner.wait(check.id)
    assert final.status == "failed" and final.step == "copy"
    assert f"there is no workspace folder {course_root / 'nowhere' / 'ps1'}" in (final.message or "")


async def test_timeout_stops_the_check(course_root: Path) -> None:
    runner = CheckRunner(_settings(course_root, timeout=0.3))
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "failed"
    assert "longer than 0.3 s" in (final.message or "")
    assert "CourseTracker.check_timeout" in (final.message or "")


async def test_missing_source_and_gradebook_fails_clearly(course_root: Path) -> None:
    (course_root / "gradebook.db").unlink()
    runner = CheckRunner(_settings(course_root, course_root=course_root))
    shutil.rmtree(course_root / "source")
    check, _ = runner.start("ps1")
    final = await runner.wait(check.id)
    assert final.status == "failed" and final.step == "prepare"
    assert "source folder" in (final.message or "")


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
