"""The REST API under /course-tracker/, through a real Jupyter server (pytest-jupyter)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from course_tracker.config import CourseTracker
from course_tracker.errors import CourseTrackerConfigError
from course_tracker.service import TrackerService
from nbcourse.nbgrader import NbgraderConfigError
from nbcourse.nbgrader import read_db_url as read_nbgrader_db_url

Api = Callable[..., Any]


async def test_tracker_read(api: Api) -> None:
    status, tracker, headers = await api("GET", "tracker")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert tracker["course_id"] == "fixture-course"
    assert tracker["title"] == "Fixture Course Tracker"
    assert tracker["student"] == "learner"
    assert (tracker["role"], tracker["check_my_work"], tracker["sharing"]) == ("student", True, False)
    assert tracker["results_source"] == "none"
    assert [s["id"] for s in tracker["sections"]] == ["setup", "m1", "summary"]
    assert tracker["assignments"] == [
        {
            "id": "ps1",
            "title": "Problem set 1",
            "notebooks": ["problem1"],
            "checkable": True,
            "available": True,
            "state": "not_started",
        }
    ]
    states = tracker["states"]
    assert states["m1.core.squares"]["status"] == "not_attempted"
    assert states["m1.core.squares"]["notebook_path"] == "workspace/ps1/problem1.ipynb"
    assert states["m1.core.squares"]["available"] is True
    assert states["setup.env.deps"]["detail"] == "no_such_module_xyz missing"
    # Trackable items only: 4 env + 5 auto + 2 self + 1 choice with satisfied_by; not the two
    # text fields (name, journal) nor the derived summaries.
    assert tracker["summary"] == {"satisfied": 3, "total": 12}


@pytest.mark.parametrize(
    ("item_id", "value"),
    [
        ("m1.reflect.q1", True),
        ("m1.reflect.status", "Complete"),
        ("m1.reflect.name", "Ada Lovelace"),
        ("m1.reflect.journal", "Line one\nLine two — with ünïcode"),
    ],
)
async def test_set_learner_items(api: Api, item_id: str, value: Any, store_path: Path) -> None:
    status, state, _ = await api("PUT", "items", item_id, body={"value": value, "rev": 0})
    assert status == 200
    assert state["id"] == item_id and state["value"] == value
    assert state["rev"] == 1 and state["satisfied"] is True
    assert state["updated"].endswith("Z")
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["states"][item_id]["value"] == value
    saved = json.loads(store_path.read_text(encoding="utf-8"))
    assert saved["items"][item_id]["value"] == value


async def test_derived_items_follow_writes(api: Api) -> None:
    await api("PUT", "items", "m1.reflect.q1", body={"value": True, "rev": 0})
    await api("PUT", "items", "m1.reflect.q2", body={"value": True, "rev": 0})
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["states"]["summary.questions"]["value"] == "2 / 2"
    assert tracker["states"]["summary.ready"]["value"] == "Ready"


async def test_stale_revision_is_409_with_current_state(api: Api) -> None:
    await api("PUT", "items", "m1.reflect.name", body={"value": "from tab A", "rev": 0})
    status, body, _ = await api("PUT", "items", "m1.reflect.name", body={"value": "from tab B", "rev": 0})
    assert status == 409
    assert "changed elsewhere" in body["message"]
    assert body["state"]["value"] == "from tab A" and body["state"]["rev"] == 1
    # The losing write changed nothing.
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["states"]["m1.reflect.name"]["value"] == "from tab A"


@pytest.mark.parametrize("item_id", ["m1.core.squares", "setup.env.python", "summary.questions"])
async def test_computed_items_cannot_be_set(api: Api, item_id: str) -> None:
    status, body, _ = await api("PUT", "items", item_id, body={"value": True, "rev": 0})
    assert status == 400
    assert "computed" in body["message"] and item_id in body["message"]


@pytest.mark.parametrize(
    ("item_id", "raw", "fragment"),
    [
        ("m1.reflect.q1", b"{not json", "not valid JSON"),
        ("m1.reflect.q1", b"[true, 0]", "must be a JSON object"),
        ("m1.reflect.q1", b"", "needs a JSON body"),
        ("m1.reflect.q1", b'{"rev": 0}', "needs 'value'"),
        ("m1.reflect.q1", b'{"value": true}', "'rev' must be a non-negative integer"),
        ("m1.reflect.q1", b'{"value": true, "rev": "0"}', "'rev' must be a non-negative integer"),
        ("m1.reflect.q1", b'{"value": "yes", "rev": 0}', "value must be true or false"),
        ("m1.reflect.name", b'{"value": 5, "rev": 0}', "value must be a string"),
        ("m1.reflect.status", b'{"value": "Done", "rev": 0}', "'Done' is not an option"),
        ("m1.reflect.name", b'{"value": "two\\nlines", "rev": 0}', "single-line"),
    ],
)
async def test_bad_payloads_are_400(api: Api, item_id: str, raw: bytes, fragment: str) -> None:
    status, body, _ = await api("PUT", "items", item_id, raw=raw)
    assert status == 400, body
    assert fragment in body["message"]


async def test_unknown_things_are_404(api: Api) -> None:
    status, body, _ = await api("PUT", "items", "m9.nope", body={"value": True, "rev": 0})
    assert (status, body["message"]) == (404, "unknown item 'm9.nope'")
    status, body, _ = await api("POST", "checks", body={"assignment": "ps9"})
    assert (status, body["message"]) == (404, "unknown assignment 'ps9'")
    status, body, _ = await api("GET", "checks", "0123abcd")
    assert (status, body["message"]) == (404, "unknown check '0123abcd'")
    status, body, _ = await api("GET", "feedback", "ps9", "problem1")
    assert status == 404 and "unknown assignment" in body["message"]
    status, body, _ = await api("GET", "feedback", "ps1", "..")
    assert status == 404 and "unknown notebook" in body["message"]
    status, body, _ = await api("GET", "feedback", "ps1", "problem1")
    assert (status, body["message"]) == (404, "no feedback yet for ps1/problem1")


async def test_check_request_needs_an_assignment(api: Api) -> None:
    status, body, _ = await api("POST", "checks", body={"assignment": 3})
    assert status == 400 and "'assignment'" in body["message"]


async def test_export_is_markdown_attachment(api: Api) -> None:
    await api("PUT", "items", "m1.reflect.name", body={"value": "Ada Lovelace", "rev": 0})
    await api("PUT", "items", "m1.reflect.q1", body={"value": True, "rev": 0})
    status, text, headers = await api("GET", "export")
    assert status == 200
    assert headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert headers["Content-Disposition"] == 'attachment; filename="fixture-course-progress.md"'
    assert "Fixture Course Tracker" in text
    assert "Ada Lovelace" in text
    assert "- [x] I can explain squares" in text
    assert "- [ ] I can explain cubes" in text


async def test_corrupt_store_is_recovered_from_backup(api: Api, store_path: Path) -> None:
    await api("PUT", "items", "m1.reflect.name", body={"value": "Ada", "rev": 0})
    await api("PUT", "items", "m1.reflect.journal", body={"value": "kept words", "rev": 0})
    store_path.write_text("{ this is not json", encoding="utf-8")
    status, tracker, _ = await api("GET", "tracker")
    assert status == 200
    # The .bak holds the state before the journal write; the corrupt file is kept for the rest.
    assert tracker["states"]["m1.reflect.name"]["value"] == "Ada"
    kept = list(store_path.parent.glob(f"{store_path.name}.corrupt-*"))
    assert [p.read_text(encoding="utf-8") for p in kept] == ["{ this is not json"]
    status, state, _ = await api("PUT", "items", "m1.reflect.name", body={"value": "Ada L.", "rev": 1})
    assert status == 200 and state["rev"] == 2


async def test_unknown_store_schema_is_500_with_message(api: Api, store_path: Path) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    store_path.write_text(json.dumps({"schema_version": 7, "course_id": "fixture-course", "items": {}}))
    status, body, _ = await api("GET", "tracker")
    assert status == 500
    assert "unknown schema_version 7" in body["message"]


ENDPOINTS = [
    ("GET", ("tracker",), None),
    ("PUT", ("items", "m1.reflect.q1"), {"value": True, "rev": 0}),
    ("POST", ("checks",), {"assignment": "ps1"}),
    ("GET", ("checks", "abc"), None),
    ("GET", ("export",), None),
    ("GET", ("feedback", "ps1", "problem1"), None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
async def test_unauthenticated_requests_get_403(
    api: Api, method: str, path: tuple[str, ...], body: Any, store_path: Path
) -> None:
    # An empty Authorization header replaces the test client's token: no user.
    status, _, _ = await api(method, *path, body=body, headers={"Authorization": ""})
    assert status == 403
    assert not store_path.exists()  # and nothing was written


# ---- configuration defaults (what the handlers above run with) -------------------------------


def test_config_defaults_from_the_course(course_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    nested = course_root / "workspace" / "ps1"
    config = CourseTracker(server_root_dir=str(nested))
    # Walks up from the server's root folder to the folder holding course.yaml.
    assert Path(config.course_root) == course_root
    assert config.resolved_course_root() == course_root.resolve()
    assert Path(config.workspace_dir) == course_root / "workspace"
    # The gradebook is wherever the course's nbgrader_config.py says.
    assert config.db_url == f"sqlite:///{course_root.resolve() / 'gradebook.db'}"
    assert config.student_id == "learner"
    assert config.resolved_store_path("fixture-course").parts[-2:] == (
        "course_tracker",
        "fixture-course.json",
    )


def test_config_env_overrides(course_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURSE_ROOT", str(course_root))
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    monkeypatch.setenv("FIXTURE_DB_URL", "postgresql://grader@db/course")
    config = CourseTracker(server_root_dir=str(tmp_path))
    assert Path(config.course_root) == course_root
    assert config.student_id == "ada"
    assert config.db_url == "postgresql://grader@db/course"


def test_config_without_a_course_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    config = CourseTracker(server_root_dir=str(tmp_path))
    expected = re.escape("set COURSE_ROOT or --CourseTracker.course_root")
    with pytest.raises(CourseTrackerConfigError, match=expected):
        config.resolved_course_root()


def test_broken_nbgrader_config_is_named(course_root: Path) -> None:
    (course_root / "nbgrader_config.py").write_text("c = get_config()\n1 / 0\n")
    with pytest.raises(NbgraderConfigError, match=re.escape("nbgrader_config.py: division by zero")):
        read_nbgrader_db_url(course_root)


def test_service_outside_a_course_reports_the_problem(tmp_path: Path) -> None:
    service = TrackerService(CourseTracker(course_root=str(tmp_path), server_root_dir=str(tmp_path)))
    with pytest.raises(CourseTrackerConfigError, match=re.escape("has no course.yaml")):
        service.tracker()
