"""A slow read holding the learner's service must not freeze the server: the checks endpoints
never take the service lock on the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from course_tracker.service import TrackerService

Api = Callable[..., Any]


def _services(router: Any) -> Iterator[TrackerService]:
    """Every TrackerService bound to a route of a tornado router (routes nest per host)."""
    for rule in getattr(router, "rules", []):
        service = (rule.target_kwargs or {}).get("service")
        if isinstance(service, TrackerService):
            yield service
        yield from _services(rule.target)


def the_service(serverapp: Any) -> TrackerService:
    (service, *_others) = set(_services(serverapp.web_app.default_router))
    return service


async def test_checks_answer_while_a_slow_read_holds_the_service(api: Api, jp_serverapp: Any) -> None:
    assert (await api("GET", "tracker"))[0] == 200
    service = the_service(jp_serverapp)
    held, release = threading.Event(), threading.Event()

    def slow_gradebook_read() -> None:
        with service._lock:  # what a slow gradebook read does for its whole duration
            held.set()
            release.wait(30)

    reader = threading.Thread(target=slow_gradebook_read)
    reader.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        # The event loop still answers: an unknown check is a lock-free lookup...
        status, body, _ = await api("GET", "checks", "0123abcd")
        assert (status, body["message"]) == (404, "unknown check '0123abcd'")
        # ...and a POST waits for the lock in a worker thread, not on the loop.
        post = asyncio.ensure_future(api("POST", "checks", body={"assignment": "ps9"}))
        status, _, _ = await api("GET", "checks", "0123abcd")
        assert status == 404
        assert time.monotonic() - started < 10
        assert not post.done()  # it is waiting for the read to finish
    finally:
        release.set()
        reader.join()
    status, body, _ = await post
    assert (status, body["message"]) == (404, "unknown assignment 'ps9'")


def test_an_edit_recomputes_only_its_item(course_root: Any, store_path: Any, monkeypatch: Any) -> None:
    from course_tracker.config import CourseTracker

    config = CourseTracker(course_root=str(course_root), store_path=str(store_path), student_id="learner")
    service = TrackerService(config)

    def no_grades() -> None:
        raise AssertionError("an edit of a checkbox must not read the grades")

    monkeypatch.setattr(service, "results", no_grades)
    service.set_item("m1.reflect.q1", True, 0)
    state = service.item_state("m1.reflect.q1")
    assert (state["value"], state["satisfied"], state["rev"]) == (True, True, 1)
    # A derived item is computed from the items it counts (and only those).
    assert service.item_state("summary.questions")["value"] == "1 / 2"
