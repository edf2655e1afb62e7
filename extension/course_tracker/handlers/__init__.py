"""The tracker's REST handlers, one module per audience, all under one URL namespace.

- `learner.py`: the learner's own tracker, items, checks, export and feedback.
- `instructor.py`: the cohort view; it authorises by role (`CourseTracker.role`, on a hub set
  from JupyterHub's instructors group) and answers 403 to a student.

A new audience is a module here with a `HANDLERS` list of `(pattern, handler class)` whose
classes derive from `base.TrackerAPIHandler`; add the module to `AUDIENCES` and `routes` serves
it (and tests/test_auth.py checks every method of it is authenticated).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from jupyter_server.utils import url_path_join

from nbcourse.tracker.wire import API_NAMESPACE

from ..service import TrackerService
from . import instructor, learner

AUDIENCES: list[ModuleType] = [learner, instructor]


def routes(base_url: str, service: TrackerService) -> list[tuple[str, type, dict[str, Any]]]:
    """Tornado routes for every handler of every audience, bound to one service."""
    return [
        (url_path_join(base_url, API_NAMESPACE, pattern), handler, {"service": service})
        for module in AUDIENCES
        for pattern, handler in module.HANDLERS
    ]
