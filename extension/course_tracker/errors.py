"""The errors the JupyterLab face answers with (see handlers/base.py for their HTTP statuses)."""

from __future__ import annotations


class CourseTrackerConfigError(RuntimeError):
    """The extension cannot find or read the course it is meant to track (HTTP 500 with advice)."""


class NotFound(Exception):
    """An unknown item, assignment, check or feedback file (HTTP 404)."""


class BadRequest(Exception):
    """A malformed request (HTTP 400); the message says which field is wrong and why."""


class Forbidden(Exception):
    """The request is not allowed for this server's role (answered as 403)."""
