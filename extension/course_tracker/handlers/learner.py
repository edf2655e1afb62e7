"""The learner's REST handlers under `<base_url>/course-tracker/` (contract: docs/architecture.md).

Each learner's server serves only that learner: every answer is about `CourseTracker.student_id`.
"""

from __future__ import annotations

import asyncio
import re

import tornado.web

from nbcourse.tracker.store import Conflict
from nbcourse.tracker.wire import FEEDBACK_ROUTE

from ..errors import BadRequest
from .base import TrackerAPIHandler


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


class SharingHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def put(self) -> None:
        async def action() -> None:
            share = self.json_body().get("share")
            if not isinstance(share, bool):
                raise BadRequest(f"the body needs 'share': true or false, got {share!r}")
            self.send_json(await self.call(self.service.set_sharing, share))

        await self.run(action)


class ChecksHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        async def action() -> None:
            body = self.json_body()
            assignment = body.get("assignment")
            if not isinstance(assignment, str) or not assignment:
                raise BadRequest("the body needs 'assignment': an assignment id string")
            # In a worker thread: finding the assignment takes the service lock, which a slow
            # gradebook read may hold; the grading itself runs in a thread of the job registry.
            check, _created = await self.call(self.service.start_check, assignment)
            # A second POST while a check runs gets the running one: same answer, same status.
            self.send_json(check.to_json(), 202)

        await self.run(action)


class CheckHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self, check_id: str) -> None:
        async def action() -> None:
            # Lock-free lookup in the job registry: fine on the event loop.
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


# A <script> that loads its code from another host (nbconvert's MathJax from a CDN): offline it
# hangs or fails, and no feedback page needs it to show scores and messages.
_REMOTE_SCRIPT = re.compile(
    rb"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL
)


def without_remote_scripts(html: bytes) -> bytes:
    """The page with every script loaded from another host removed (the page works offline)."""
    return _REMOTE_SCRIPT.sub(b"", html)


class FeedbackHandler(TrackerAPIHandler):
    @tornado.web.authenticated
    async def get(self, assignment: str, notebook: str) -> None:
        async def action() -> None:
            path = await self.call(self.service.feedback_path, assignment, notebook)
            content = without_remote_scripts(await asyncio.to_thread(path.read_bytes))
            # Feedback pages embed the learner's own outputs; a sandboxed page cannot use the
            # server's cookies or call its API, whatever those outputs contain.
            self.set_header("Content-Security-Policy", "sandbox allow-scripts allow-popups")
            self.finish(content, set_content_type="text/html; charset=utf-8")

        await self.run(action)


_SEGMENT = r"([^/]+)"

# (pattern below <base_url>/course-tracker/, handler)
HANDLERS: list[tuple[str, type[TrackerAPIHandler]]] = [
    ("tracker", TrackerHandler),
    (f"items/{_SEGMENT}", ItemHandler),
    ("sharing", SharingHandler),
    ("checks", ChecksHandler),
    (f"checks/{_SEGMENT}", CheckHandler),
    ("export", ExportHandler),
    (f"{FEEDBACK_ROUTE}/{_SEGMENT}/{_SEGMENT}", FeedbackHandler),
]
