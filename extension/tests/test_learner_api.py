"""What a new learner hits in the first hour (issue 14) and the share toggle (issue 13), through a
real Jupyter server: coming-soon assignments, a feedback page that works offline, bad bodies that
get 400/413 and leave the store alone, and sharing entered items with instructors."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nbcourse.nbgrader import NbgraderCourse
from nbcourse.tracker.cohort import SHARED_FILE

Api = Callable[..., Any]


@pytest.fixture
def course_source(request: pytest.FixtureRequest, course_template: Path) -> Path:
    """Indirectly parametrized with "graded": start from the graded course (feedback exists)."""
    if getattr(request, "param", None) == "graded":
        return request.getfixturevalue("graded_template")
    return course_template


@pytest.fixture
def tracker_config(tracker_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Indirectly parametrized with a dict: the server's CourseTracker settings it changes."""
    return {**tracker_config, **getattr(request, "param", {})}


def settings(**changes: Any) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("tracker_config", [changes], indirect=True, ids=[""])


GRADED = pytest.mark.parametrize("course_source", ["graded"], indirect=True)


# ---- (3) assignments that do not exist yet ------------------------------------------------------


def add_coming_soon_assignment(course: Path) -> None:
    """A second assignment `ps2` in the manifest, with no folder anywhere (not written yet)."""
    path = course / "course.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    notebooks: [problem1]\n",
        '    notebooks: [problem1]\n  - id: ps2\n    title: "Problem set 2"\n    notebooks: [problem2]\n',
    ).replace(
        "      - id: m1.reflect\n",
        '          - {id: m1.core.next, kind: auto, text: "Next set",\n'
        "             auto: {assignment: ps2, notebook: problem2, rule: all_cells}}\n"
        "      - id: m1.reflect\n",
    )
    path.write_text(text, encoding="utf-8")


async def test_check_of_a_coming_soon_assignment_is_404_at_once(api: Api, course_root: Path) -> None:
    add_coming_soon_assignment(course_root)
    status, body, _ = await api("POST", "checks", body={"assignment": "ps2"})
    assert status == 404
    assert "coming soon" in body["message"] and "ps2" in body["message"]
    _, tracker, _ = await api("GET", "tracker")
    ps2 = next(a for a in tracker["assignments"] if a["id"] == "ps2")
    assert (ps2["available"], ps2["state"], ps2["checkable"]) == (False, "coming_soon", False)
    item = tracker["states"]["m1.core.next"]
    assert item["available"] is False and "notebook_path" not in item


# ---- (11) the feedback page works offline ---------------------------------------------------------

REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)


@GRADED
async def test_feedback_page_loads_no_script_from_the_network(api: Api, course_root: Path) -> None:
    on_disk = NbgraderCourse(course_root).feedback_dir("learner", "ps1") / "problem1.html"
    # nbgrader's page loads MathJax from a CDN: offline, the learner's browser waits on it.
    assert REMOTE_SCRIPT.search(on_disk.read_text(encoding="utf-8"))
    status, html, headers = await api("GET", "feedback", "ps1", "problem1")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert not REMOTE_SCRIPT.search(html)
    assert "squares" in html  # the page itself is still there


# ---- (12) bad input: 400/413 with a message, the store untouched ---------------------------------


@settings(max_body_size=1000)
async def test_body_larger_than_the_cap_is_413(api: Api, store_path: Path) -> None:
    body = json.dumps({"value": "x" * 2000, "rev": 0}).encode()
    status, reply, _ = await api("PUT", "items", "m1.reflect.journal", raw=body)
    assert status == 413
    assert "larger than the 1000 bytes allowed" in reply["message"]
    assert not store_path.exists()
    # Under the cap the same item is stored as usual.
    status, _, _ = await api("PUT", "items", "m1.reflect.journal", body={"value": "short", "rev": 0})
    assert status == 200


async def test_huge_body_is_refused_before_it_is_sent(
    http_server_client: Any, jp_http_port: int, jp_serverapp: Any, jp_base_url: str, store_path: Path
) -> None:
    """Only the headers are sent: the answer comes without the server waiting for 200 MB."""
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = f"{jp_base_url.rstrip('/')}/course-tracker/items/m1.reflect.journal"
    writer.write(
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: token {jp_serverapp.identity_provider.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413")
    assert not store_path.exists()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b', "rev": 1}', "nested too deeply"),
        (b'{"value": "\\ud800", "rev": 1}', "not valid Unicode"),
        (b'{"value": "caf\xe9", "rev": 1}', "not UTF-8"),
    ],
    ids=["deeply-nested", "lone-surrogate", "latin-1"],
)
async def test_malformed_bodies_are_400_and_store_nothing(
    api: Api, store_path: Path, raw: bytes, fragment: str
) -> None:
    await api("PUT", "items", "m1.reflect.name", body={"value": "Ada", "rev": 0})
    before = store_path.read_bytes()
    # rev 1 is the stored revision: only the body itself is wrong.
    status, reply, _ = await api("PUT", "items", "m1.reflect.name", raw=raw)
    assert status == 400, reply
    assert fragment in reply["message"]
    assert store_path.read_bytes() == before
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["states"]["m1.reflect.name"]["value"] == "Ada"


# ---- issue 13: sharing with instructors, role, check_my_work --------------------------------------


async def test_sharing_writes_and_removes_the_shared_file(
    api: Api, course_root: Path, store_path: Path
) -> None:
    shared = course_root / "workspace" / "ps1" / SHARED_FILE
    await api("PUT", "items", "m1.reflect.name", body={"value": "Ada", "rev": 0})
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["sharing"] is False and not shared.exists()  # private by default

    status, reply, _ = await api("PUT", "sharing", body={"share": True})
    assert (status, reply) == (200, {"sharing": True, "written": [f"ps1/{SHARED_FILE}"]})
    assert json.loads(shared.read_text(encoding="utf-8"))["items"] == {"m1.reflect.name": "Ada"}
    # While on, every edit of an entered item travels with the next submission.
    await api("PUT", "items", "m1.reflect.q1", body={"value": True, "rev": 0})
    assert json.loads(shared.read_text(encoding="utf-8"))["items"] == {
        "m1.reflect.name": "Ada",
        "m1.reflect.q1": True,
    }
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["sharing"] is True
    # The choice is the learner's and survives a restart: it is in the store file.
    assert json.loads(store_path.read_text(encoding="utf-8"))["settings"] == {"share": True}

    status, reply, _ = await api("PUT", "sharing", body={"share": False})
    assert (status, reply) == (200, {"sharing": False, "written": [f"ps1/{SHARED_FILE}"]})
    assert not shared.exists()
    await api("PUT", "items", "m1.reflect.name", body={"value": "Ada L.", "rev": 1})
    assert not shared.exists()  # off means nothing is written again


@pytest.mark.parametrize("raw", [b'{"share": "yes"}', b"{}", b'{"share": 1}'])
async def test_sharing_needs_a_boolean(api: Api, raw: bytes, store_path: Path) -> None:
    status, reply, _ = await api("PUT", "sharing", raw=raw)
    assert status == 400 and "'share': true or false" in reply["message"]
    assert not store_path.exists()


async def test_sharing_needs_a_logged_in_user(api: Api, course_root: Path) -> None:
    status, _, _ = await api("PUT", "sharing", body={"share": True}, headers={"Authorization": ""})
    assert status == 403
    assert not (course_root / "workspace" / "ps1" / SHARED_FILE).exists()


@settings(check_my_work=False, role="student")
async def test_check_my_work_off_is_403_and_said_in_the_payload(api: Api) -> None:
    _, tracker, _ = await api("GET", "tracker")
    assert (tracker["role"], tracker["check_my_work"]) == ("student", False)
    assert tracker["assignments"][0]["checkable"] is False
    status, reply, _ = await api("POST", "checks", body={"assignment": "ps1"})
    assert status == 403 and "Check my work is turned off" in reply["message"]


@settings(role="instructor")
async def test_role_is_in_the_payload(api: Api) -> None:
    _, tracker, _ = await api("GET", "tracker")
    assert tracker["role"] == "instructor"
