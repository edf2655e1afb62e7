"""REST handlers under `<base_url>/course-tracker/` (contract: docs/architecture.md).

Every HTTP method is `@tornado.web.authenticated`: the tracker shows a learner's grades and
writes their answers, so it must never answer a request without a logged-in user.
`tests/test_auth.py` fails the build if a method here lacks the decorator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .app import BadRequest, NotFound, TrackerService
from .store import Conflict

NAMESPACE = "course-tracker"
T = TypeVar("T")


class TrackerAPIHandler(APIHandler):
    """Shared plumbing: the service, JSON bodies, and errors as `{"message": ...}`."""

    service: TrackerService

    def initialize(self, service: TrackerService) -> None:
        self.service = service

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        # APIHandler.finish sets the Content-Type itself; it must be told which one.
        self.finish(
            json.dumps(data, ensure_ascii=False), set_content_type="application/json; charset=utf-8"
        )

    def send_error_json(self, status: int, message: str, **extra: Any) -> None:
        self.send_json({"message": message, **extra}, status)

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; BadRequest names what is wrong with it."""
        raw = self.request.body
        if not raw:
            raise BadRequest("the request needs a JSON body")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
        return body

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run service work in a worker thread, so a slow disk or gradebook read never stalls
        the server's event loop (kernels, file saves, other users' requests)."""
        return await asyncio.to_thread(self.service.locked, fn, *args)

    async def run(self, action: Callable[[], Awaitable[None]]) -> None:
        """Await `action()` and turn the service's exceptions into the contract's error answers."""
        try:
            await action()
        except BadRequest as exc:
            self.send_error_json(400, str(exc))
        except NotFound as exc:
            self.send_error_json(404, str(exc))
        except Exception as exc:
            # Configuration, manifest or store faults: say what broke instead of a bare 500.
            self.log.exception("course tracker: %s %s failed", self.request.method, self.request.path)
            self.send_error_json(500, f"{type(exc).__name__}: {exc}")


class TrackerHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def action() -> None:
            self.send_json(await self.call(self.service.tracker))

        await self.run(action)


class ItemHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def put(self, item_id: str) -> None:
        async def action() -> None:
            await self.call(self.service.item, item_id)  # 404 before looking at the body
            body = self.json_body()
            if "value" not in body:
                raise BadRequest("the body needs 'value'")
            rev = body.get("rev")
            if not isinstance(rev, int) or isinstance(rev, bool) or rev < 0:
                raise BadRequest(f"'rev' must be a non-negative integer, got {rev!r}")
            try:
                await self.call(self.service.set_item, item_id, body["value"], rev)
            except Conflict as exc:
                state = await self.call(self.service.item_state, item_id)
                self.send_error_json(409, str(exc), state=state)
                return
            self.send_json(await self.call(self.service.item_state, item_id))

        await self.run(action)


class ChecksHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def action() -> None:
            body = self.json_body()
            assignment = body.get("assignment")
            if not isinstance(assignment, str) or not assignment:
                raise BadRequest("the body needs 'assignment': an assignment id string")
            # On the event loop: starting a check schedules an asyncio task.
            check, _created = self.service.start_check(assignment)
            # A second POST while a check runs gets the running one: same answer, same status.
            self.send_json(check.to_json(), 202)

        await self.run(action)


class CheckHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self, check_id: str) -> None:
        async def action() -> None:
            self.send_json(self.service.get_check(check_id).to_json())

        await self.run(action)


class ExportHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        async def action() -> None:
            filename, text = await self.call(self.service.export)
            self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
            self.finish(text.encode("utf-8"), set_content_type="text/markdown; charset=utf-8")

        await self.run(action)


class FeedbackHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self, assignment: str, notebook: str) -> None:
        async def action() -> None:
            path = await self.call(self.service.feedback_path, assignment, notebook)
            content = await asyncio.to_thread(path.read_bytes)
            # Feedback pages embed the learner's own outputs; a sandboxed page cannot use the
            # server's cookies or call its API, whatever those outputs contain.
            self.set_header("Content-Security-Policy", "sandbox allow-scripts allow-popups")
            self.finish(content, set_content_type="text/html; charset=utf-8")

        await self.run(action)


_SEGMENT = r"([^/]+)"

HANDLERS: list[tuple[str, type[TrackerAPIHandler]]] = [
    ("tracker", TrackerHandler),
    (f"items/{_SEGMENT}", ItemHandler),
    ("checks", ChecksHandler),
    (f"checks/{_SEGMENT}", CheckHandler),
    ("export", ExportHandler),
    (f"feedback/{_SEGMENT}/{_SEGMENT}", FeedbackHandler),
]


def routes(base_url: str, service: TrackerService) -> list[tuple[str, type, dict[str, Any]]]:
    """Tornado routes for every handler, bound to one service."""
    return [
        (url_path_join(base_url, NAMESPACE, pattern), handler, {"service": service})
        for pattern, handler in HANDLERS
    ]
