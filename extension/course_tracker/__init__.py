"""A course progress tracker for JupyterLab, driven by nbgrader autograde results."""

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server where the extension's `_load_jupyter_server_extension` lives."""
    return [{"module": "course_tracker.app"}]
