"""Core library for nbgrader courses: grading, tracker model, authoring. Never imports jupyter_server."""

__version__ = "0.1.0"
