"""Configuration of the tracker's server extension (`--CourseTracker.<trait>=...`).

Every trait has a default that works without configuration for the self-paced learner who starts
JupyterLab inside a clone of the course: the course root is found by walking up from the server's
root folder, and the gradebook location is read from the course's own `nbgrader_config.py`, so the
tracker and nbgrader can never disagree about which database holds the grades.
"""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Enum, Float, Int, Unicode, default
from traitlets.config import Configurable

from nbcourse.authoring.workspace import default_workspace
from nbcourse.nbgrader import read_db_url
from nbcourse.tracker.manifest import MANIFEST_FILE, find_course_root

from .errors import CourseTrackerConfigError


class CourseTracker(Configurable):
    """Where the course, the learner's work, their stored answers and their grades live."""

    server_root_dir = Unicode(
        "", help="The Jupyter server's root folder (set by the extension, not by users)."
    )

    course_root = Unicode(
        config=True,
        help="Folder holding course.yaml and nbgrader_config.py. Default: env COURSE_ROOT, else "
        "the nearest folder at or above the server's root folder that holds a course.yaml.",
    )

    workspace_dir = Unicode(
        config=True,
        help="The learner's own notebooks, one folder per assignment. Default: <course_root>/workspace.",
    )

    store_path = Unicode(
        config=True,
        help="JSON file holding the learner's ticks, choices and text. "
        "Default: <jupyter_data_dir>/course_tracker/<course_id>.json.",
    )

    student_id = Unicode(
        config=True,
        help="The learner's nbgrader student id. Default: the JupyterHub user when running under "
        "JupyterHub, else 'learner'.",
    )

    db_url = Unicode(
        config=True,
        help="The nbgrader gradebook's database URL. Default: c.CourseDirectory.db_url from the "
        "course's nbgrader_config.py.",
    )

    check_timeout = Float(
        1800.0,
        config=True,
        help="Seconds a 'Check my work' run (autograde + feedback) may take before it is stopped.",
    )

    max_body_size = Int(
        1024 * 1024,
        config=True,
        help="Largest request body (bytes) the tracker's handlers accept; a bigger one is refused "
        "with 413 before it is read. A journal entry is at most 100,000 characters.",
    )

    role = Enum(
        ["student", "instructor"],
        "student",
        config=True,
        help="Whose server this is. 'instructor' turns on the cohort view (it reads the whole "
        "gradebook); every other server answers 403 to it. On JupyterHub the hub sets it from the "
        "user's group (deploy/hub/).",
    )

    check_my_work = Bool(
        True,
        config=True,
        help="Offer 'Check my work' (local grading with the hidden tests). Off on a cohort hub, where "
        "the hidden tests live only with the grader and the instructor grades submissions.",
    )
    warm_checks = Bool(
        True,
        config=True,
        help="Start Check my work's grader (fork servers with the course's libraries imported) in the "
        "background when the server starts, so the first check does not pay for it.",
    )
    warm_cohort = Bool(
        True,
        config=True,
        help="On an instructor's server, build the cohort report in the background when the server "
        "starts, so the first look at the cohort view is a cached read.",
    )

    @default("course_root")
    def _default_course_root(self) -> str:
        from_env = os.environ.get("COURSE_ROOT")
        if from_env:
            return from_env
        start = Path(self.server_root_dir or os.getcwd())
        found = find_course_root(start)
        return str(found) if found else ""

    @default("workspace_dir")
    def _default_workspace_dir(self) -> str:
        return str(default_workspace(Path(self.course_root))) if self.course_root else ""

    @default("student_id")
    def _default_student_id(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or "learner"

    @default("db_url")
    def _default_db_url(self) -> str:
        if not self.course_root:
            return ""
        return read_db_url(Path(self.course_root)) or ""

    def resolved_course_root(self) -> Path:
        """The course root as a checked path; raises a clear error when there is none."""
        if not self.course_root:
            raise CourseTrackerConfigError(
                f"no course found: no {MANIFEST_FILE} in {self.server_root_dir or os.getcwd()} or "
                "any folder above it; set COURSE_ROOT or --CourseTracker.course_root"
            )
        root = Path(self.course_root).expanduser().resolve()
        if not (root / MANIFEST_FILE).is_file():
            raise CourseTrackerConfigError(f"CourseTracker.course_root={root} has no {MANIFEST_FILE}")
        return root

    def resolved_store_path(self, course_id: str) -> Path:
        """The store file for this course: the configured one or the per-user default."""
        if self.store_path:
            return Path(self.store_path).expanduser()
        return Path(jupyter_data_dir()) / "course_tracker" / f"{course_id}.json"
