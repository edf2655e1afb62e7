"""What every tracker handler shares: the service, JSON bodies, and errors as `{"message": ...}`.

Every HTTP method of every handler is `@tornado.web.authenticated`: the tracker shows a learner's
grades and writes their answers, so it must never answer a request without a logged-in user.
`tests/test_auth.py` fails the build if a method of any handler module lacks the decorator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler

from ..errors import BadRequest, Forbidden, NotFound
from ..service import TrackerService

T = TypeVar("T")


class TrackerAPIHandler(APIHandler):
    """Shared plumbing of the tracker's handlers, whatever their audience."""

    service: TrackerService

    def initialize(self, service: TrackerService) -> None:
        self.service = service

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        # APIHandler.finish sets the Content-Type itself; it must be told which one.
        self.finish(json.dumps(data, ensure_ascii=False), set_content_type="application/json; charset=utf-8")

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
