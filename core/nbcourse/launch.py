"""How `course start` launches JupyterLab: the command line and environment, per mode.

A learner's JupyterLab shows the learner's tools only. nbgrader registers its instructor tools
as soon as it is installed (the Nbgrader menu, the "Create Assignment" sidebar, the formgrader,
the course and assignment lists; `jupyter labextension list`, `jupyter server extension list`),
and the course needs nbgrader installed to grade "Check my work". So the learner mode turns them
off for this server only, leaving the installation and the user's own Jupyter config alone:

- lab plugins: `jupyter_learner/labconfig/page_config.json` lists them as disabled; its folder
  goes first on JUPYTER_CONFIG_PATH, which JupyterLab merges into its page config;
- server extensions: `--ServerApp.jpserver_extensions=<module>=False` on the command line
  (command-line config wins over the extensions' own enabling files).

nbgrader's "Validate" button (validate-assignment) is a learner's tool and stays.
The instructor mode (`course start --instructor`) changes none of it and tells the tracker so.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LEARNER_CONFIG_DIR = Path(__file__).parent / "jupyter_learner"
PAGE_CONFIG = LEARNER_CONFIG_DIR / "labconfig" / "page_config.json"

# nbgrader 0.9's server extensions that serve instructor tools or the exchange's lists.
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list",
)


def instructor_lab_plugins() -> list[str]:
    """The lab plugins the learner mode disables (from the page config it ships)."""
    data = json.loads(PAGE_CONFIG.read_text(encoding="utf-8"))
    return sorted(name for name, off in data["disabledExtensions"].items() if off)


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]


def lab_launch(
    root: Path,
    workspace: Path,
    data_dir: Path,
    *,
    instructor: bool = False,
    extra: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    as_root: bool | None = None,
) -> Launch:
    """The `jupyter lab` command and environment `course start` runs (nothing is started here)."""
    base = dict(os.environ if environ is None else environ)
    env = dict(base, COURSE_ROOT=str(root), COURSE_DATA_DIR=str(data_dir))
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workspace}",
        f"--CourseTracker.course_root={root}",
        f"--CourseTracker.workspace_dir={workspace}",
    ]
    if instructor:
        argv.append("--CourseTracker.role=instructor")
    else:
        argv.extend(learner_only_args())
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(LEARNER_CONFIG_DIR), base.get("JUPYTER_CONFIG_PATH", "")) if p
        )
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        argv.append("--allow-root")  # containers and CI machines run as root
    argv.extend(extra)
    return Launch(argv, env)


def learner_only_args() -> list[str]:
    """Command-line options that switch nbgrader's instructor server extensions off."""
    return [f"--ServerApp.jpserver_extensions={name}=False" for name in INSTRUCTOR_SERVER_EXTENSIONS]
