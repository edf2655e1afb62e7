"""A course progress tracker for JupyterLab, driven by nbgrader autograde results."""

__version__ = "0.1.0"
