"""A course progress tracker for JupyterLab, driven by nbgrader autograde results.

The JupyterLab face of the `nbcourse` library: configuration (`CourseTracker`), the per-learner
service, the job registry for "Check my work" and the REST handlers. Only the entry points live
here; the handlers (and jupyter_server with them) are imported when the server loads the
extension.
"""

from __future__ import annotations

from typing import Any

from .config import CourseTracker

__version__ = "0.1.0"
__all__ = ["CourseTracker", "__version__"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server where the extension's `_load_jupyter_server_extension` lives."""
    return [{"module": "course_tracker"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Called by jupyter_server: build the learner's service and register the REST handlers."""
    from .handlers import routes
    from .service import TrackerService

    config = CourseTracker(parent=serverapp, server_root_dir=str(serverapp.root_dir))
    service = TrackerService(config, serverapp.log)
    serverapp.web_app.add_handlers(".*$", routes(serverapp.web_app.settings["base_url"], service))
    try:
        serverapp.log.info(
            "course tracker: course %s, student %s, store %s",
            service.course_root,
            config.student_id,
            config.resolved_store_path(service.manifest().course_id),
        )
    except Exception as exc:  # keep the server up; requests answer 500 with the same message
        serverapp.log.error("course tracker: %s", exc)
        return
    if config.check_my_work and config.warm_checks:
        service.warm_up_checks()
    if config.role == "instructor" and config.warm_cohort:
        service.cohort().warm_up()
