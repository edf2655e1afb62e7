"""The course as nbgrader sees it: `nbgrader_config.py`, loaded once, and every folder it names.

Every path to an nbgrader folder (source, release, submitted, autograded, feedback) comes from
nbgrader's own `CourseDirectory.format_path`, configured by the course's `nbgrader_config.py`, so
the tracker, the grader and `nbgrader` itself can never disagree about where a file lives, even
when a course renames a folder or changes `directory_structure`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from traitlets.config import Config, PyFileConfigLoader
from traitlets.config.loader import ConfigFileNotFound

CONFIG_FILE = "nbgrader_config.py"
# nbgrader's placeholder for "no student" in the paths of the source and release steps.
NO_STUDENT = "."


class NbgraderConfigError(RuntimeError):
    """The course's `nbgrader_config.py` cannot be read; the message names the file and the error."""


def load_config(course_root: Path) -> Config:
    """The course's `nbgrader_config.py` as a traitlets Config (empty when there is none).

    The file is executed exactly as nbgrader executes it (traitlets' Python config loader), so a
    value computed from `__file__` or from an environment variable resolves the same way here.
    """
    config_file = Path(course_root) / CONFIG_FILE
    if not config_file.is_file():
        return Config()
    loader = PyFileConfigLoader(config_file.name, path=str(config_file.parent))
    try:
        return loader.load_config()
    except ConfigFileNotFound:
        return Config()
    except Exception as exc:  # the file is arbitrary Python: say which file broke, and how
        raise NbgraderConfigError(f"cannot read {config_file}: {exc}") from exc


def read_db_url(course_root: Path) -> str | None:
    """`c.CourseDirectory.db_url` as the course's `nbgrader_config.py` sets it, or None."""
    url = load_config(course_root).get("CourseDirectory", {}).get("db_url")
    return str(url) if url else None


class NbgraderCourse:
    """One course root with its nbgrader configuration, and the folders nbgrader uses in it."""

    def __init__(self, root: Path, config: Config | None = None) -> None:
        from nbgrader.coursedir import CourseDirectory  # nbgrader is slow to import

        self.root = Path(root).absolute()
        self.config = Config(config) if config is not None else Config()
        # The root must be set before the CourseDirectory exists: its db_url default is derived
        # from it. The folder we were given wins over any root the file sets (a copied course).
        self.config.CourseDirectory.root = str(self.root)
        self.coursedir: Any = CourseDirectory(config=self.config)
        # nbgrader opens a relative SQLite path from the working directory, which is the course
        # root when it is run by hand; this library runs from anywhere (a Jupyter server, a Dask
        # client), so such a path is read as the course root's, here, once.
        try:
            url = make_url(str(self.coursedir.db_url))
        except ArgumentError:
            return  # not a URL at all: nbgrader says so when it opens it
        relative = url.database and url.database != ":memory:" and not os.path.isabs(url.database)
        if url.get_backend_name() == "sqlite" and relative:
            absolute = url.set(database=str(self.root / str(url.database))).render_as_string()
            self.coursedir.db_url = self.config.CourseDirectory.db_url = absolute

    @classmethod
    def load(cls, root: Path) -> NbgraderCourse:
        """Read `<root>/nbgrader_config.py` (once) and build the course from it."""
        return cls(Path(root), load_config(Path(root)))

    @classmethod
    def of(cls, course: NbgraderCourse | Path | str) -> NbgraderCourse:
        """`course` itself, or the course loaded from a root folder."""
        return course if isinstance(course, NbgraderCourse) else cls.load(Path(course))

    @property
    def course_id(self) -> str:
        return str(self.coursedir.course_id)

    @property
    def db_url(self) -> str:
        """The gradebook URL nbgrader itself would use for this course."""
        return str(self.coursedir.db_url)

    # ---- folders --------------------------------------------------------------------------

    def _path(self, step: str, student: str, assignment: str) -> Path:
        return Path(os.path.normpath(self.coursedir.format_path(step, student, assignment)))

    def step_root(self, step: str) -> Path:
        """The folder of one nbgrader step (its configured `<step>_directory`), under the root."""
        return Path(os.path.normpath(self.root / step))

    @property
    def source_root(self) -> Path:
        """Where the instructor's assignments live (one folder per assignment)."""
        return self.step_root(self.coursedir.source_directory)

    @property
    def release_root(self) -> Path:
        """Where the generated student versions live (one folder per assignment)."""
        return self.step_root(self.coursedir.release_directory)

    def source_dir(self, assignment: str) -> Path:
        return self._path(self.coursedir.source_directory, NO_STUDENT, assignment)

    def release_dir(self, assignment: str) -> Path:
        return self._path(self.coursedir.release_directory, NO_STUDENT, assignment)

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self._path(self.coursedir.submitted_directory, student, assignment)

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self._path(self.coursedir.autograded_directory, student, assignment)

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self._path(self.coursedir.feedback_directory, student, assignment)

    def assignments_in_source(self) -> list[str]:
        """Assignment folders of the source folder, sorted (hidden and `_private` ones skipped)."""
        return assignment_folders(self.source_root)

    def assignments_in_release(self) -> list[str]:
        return assignment_folders(self.release_root)

    def release_dir_option(self, release_root: Path) -> str:
        """The command-line option that sends `generate_assignment` output to `release_root`."""
        return f"--CourseDirectory.release_directory={Path(release_root).absolute()}"


def assignment_folders(folder: Path) -> list[str]:
    """Sub-folders of `folder` that are assignments, sorted; FileNotFoundError when it is missing."""
    if not folder.is_dir():
        raise FileNotFoundError(f"no folder at {folder}")
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
