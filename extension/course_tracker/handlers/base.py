"""What every tracker handler shares: the service, JSON bodies, and errors as `{"message": ...}`.

Every HTTP method of every handler is `@tornado.web.authenticated`: the tracker shows a learner's
grades and writes their answers, so it must never answer a request without a logged-in user.
`tests/test_auth.py` fails the build if a method of any handler module lacks the decorator.

Bodies are streamed (`stream_request_body`) so their size is capped while they arrive
(`CourseTracker.max_body_size`, answered 413) instead of after the server has read and buffered
them whole; what arrives is then parsed with its failure modes (invalid UTF-8, nesting too deep
for the parser, lone surrogates that no file can store) answered 400.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import tornado.web
from jupyter_server.base.handlers import APIHandler

from ..errors import BadRequest, Forbidden, NotFound
from ..service import TrackerService

T = TypeVar("T")


@tornado.web.stream_request_body
class TrackerAPIHandler(APIHandler):
    """Shared plumbing of the tracker's handlers, whatever their audience."""

    service: TrackerService

    def initialize(self, service: TrackerService) -> None:
        self.service = service
        self._body = bytearray()
        self._too_large = False

    @property
    def max_body_size(self) -> int:
        return self.service.config.max_body_size

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self._finished:
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > self.max_body_size:
            self._refuse_size(int(length))

    def data_received(self, chunk: bytes) -> None:
        if self._too_large:
            return
        if len(self._body) + len(chunk) > self.max_body_size:
            self._refuse_size(len(self._body) + len(chunk))
            return
        self._body += chunk

    def _refuse_size(self, size: int) -> None:
        """Answer 413 now; the rest of the body is never read (the connection closes)."""
        self._too_large = True
        self._body = bytearray()
        self.send_error_json(
            413,
            f"the request body ({size} bytes) is larger than the {self.max_body_size} bytes allowed "
            "(CourseTracker.max_body_size)",
        )

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        # APIHandler.finish sets the Content-Type itself; it must be told which one.
        self.finish(json.dumps(data, ensure_ascii=False), set_content_type="application/json; charset=utf-8")

    def send_error_json(self, status: int, message: str, **extra: Any) -> None:
        self.send_json({"message": message, **extra}, status)

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; BadRequest names what is wrong with it."""
        raw = bytes(self._body)
        if not raw:
            raise BadRequest("the request needs a JSON body")
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the body is not UTF-8 text: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest("the body is not valid JSON here: it is nested too deeply") from None
        if not isinstance(body, dict):
            raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
        try:
            # JSON may spell a lone UTF-16 surrogate ("\ud800"); it is no character, so no file
            # can hold it: refuse it here rather than fail while saving.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadRequest(f"the body holds text that is not valid Unicode: {exc.reason}") from None
        return body

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run service work in a worker thread, holding the service lock there, so a slow disk or
        gradebook read never stalls the server's event loop (kernels, saves, other requests)."""
        return await asyncio.to_thread(self.service.locked, fn, *args)

    async def run(self, action: Callable[[], Awaitable[None]]) -> None:
        """Await `action()` and turn the service's exceptions into the contract's error answers."""
        try:
            await action()
        except BadRequest as exc:
            self.send_error_json(400, str(exc))
        except Forbidden as exc:
            self.send_error_json(403, str(exc))
        except NotFound as exc:
            self.send_error_json(404, str(exc))
        except Exception as exc:
            # Configuration, manifest or store faults: say what broke instead of a bare 500.
            self.log.exception("course tracker: %s %s failed", self.request.method, self.request.path)
            self.send_error_json(500, f"{type(exc).__name__}: {exc}")
