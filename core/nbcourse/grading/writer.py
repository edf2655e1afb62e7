"""The writer: the one owner of the gradebook and of the autograded folder.

It uses nbgrader's own `Autograde` converter object for every step that touches the gradebook or
the course folders, so those steps are nbgrader's code, not a copy: `init_assignment` (student,
submission and timestamp, the student's files and the master copies of the source files, zero for
missing notebooks), the sanitize preprocessors (`OverwriteCells` restores tampered tests from the
gradebook's checksummed copies), the gradebook preprocessors after execution (`SaveAutoGrades`,
`AssignLatePenalties`, `CheckCellMetadata`), writing the notebook and setting its permissions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import nbformat

from ..nbgrader import NbgraderCourse, grade_id, open_gradebook
from .repair import repair_cells
from .stages import registered, sanitize_preprocessors, writer_preprocessors


class Writer:
    """Gradebook and autograded-folder operations for one assignment (call from one thread)."""

    def __init__(self, course: NbgraderCourse, assignment: str) -> None:
        from nbconvert.writers import FilesWriter
        from nbgrader.converters import Autograde

        self.course = course
        self.assignment = assignment
        self.converter: Any = Autograde(coursedir=course.coursedir, config=course.config)
        self.converter.writer = FilesWriter(parent=self.converter, config=self.converter.config)
        self.converter.exporter = self.converter.exporter_class(
            parent=self.converter, config=self.converter.config
        )
        self._sanitize = sanitize_preprocessors(course.config)
        self._record = writer_preprocessors(course.config)
        self._ids: dict[str, set[str]] = {}

    @property
    def db_url(self) -> str:
        return self.course.db_url

    def submitted_notebooks(self, student: str) -> list[Path]:
        folder = self.course.submitted_dir(student, self.assignment)
        return sorted(folder.glob("*.ipynb"))

    def known_notebooks(self) -> list[str]:
        """The assignment's notebooks as recorded in the gradebook (by generate_assignment)."""
        with open_gradebook(self.db_url) as gb:
            return sorted(nb.name for nb in gb.find_assignment(self.assignment).notebooks)

    def init_submission(self, student: str, fresh: bool) -> list[str]:
        """nbgrader's autograde set-up for one submission; the notebook names it will grade.

        `fresh` removes an earlier autograded copy first (as `--force` does); otherwise a
        resumed submission keeps the notebooks already graded.
        """
        dest = self.course.autograded_dir(student, self.assignment)
        if fresh and dest.exists():
            shutil.rmtree(dest)
        self.converter.notebooks = [str(p) for p in self.submitted_notebooks(student)]
        # Every path nbgrader derives here is absolute (the course root, and a relative SQLite
        # gradebook made the root's by NbgraderCourse), so no chdir: inside a Jupyter server a
        # chdir would move every thread's working directory.
        self.converter.init_assignment(self.assignment, student)
        return [Path(p).stem for p in self.converter.notebooks]

    def declared_files(self, student: str) -> dict[str, bytes]:
        """The assignment's non-notebook source files, as autograde copies them next to the notebooks."""
        from nbgrader.utils import find_all_files

        source = self.course.source_dir(self.assignment)
        if not source.is_dir():
            return {}
        exclude = set(self.converter.exclude_overwriting.get(self.assignment, []))
        files: dict[str, bytes] = {}
        for name in find_all_files(str(source), [*self.course.coursedir.ignore, "*.ipynb"]):
            rel = os.path.relpath(name, source)
            if rel not in exclude:
                files[rel] = Path(name).read_bytes()
        return files

    def _resources(self, student: str, notebook: str) -> dict[str, Any]:
        path = self.course.submitted_dir(student, self.assignment) / f"{notebook}.ipynb"
        return self.converter.init_single_notebook_resources(str(path))

    def sanitize(self, student: str, notebook: str) -> tuple[str, list[str]]:
        """The submitted notebook through nbgrader's sanitize preprocessors, as notebook JSON,
        after `repair.repair_cells` mended metadata that would make nbgrader drop it; the repairs."""
        path = self.course.submitted_dir(student, self.assignment) / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        repairs = repair_cells(nb, self._master_ids(notebook))
        exporter = registered(self.converter.exporter, self._sanitize)
        output, _ = exporter.from_notebook_node(nb, resources=self._resources(student, notebook))
        return str(output), repairs

    def _master_ids(self, notebook: str) -> set[str]:
        """Every nbgrader cell the gradebook's master copy of `notebook` has."""
        if notebook not in self._ids:
            with open_gradebook(self.db_url) as gb:
                master = gb.find_notebook(notebook, self.assignment)
                self._ids[notebook] = {c.name for c in [*master.source_cells, *master.grade_cells]}
        return self._ids[notebook]

    def record(self, student: str, notebook: str, executed: str) -> None:
        """Save the executed notebook's auto grades and write it where autograde writes it."""
        nb = nbformat.reads(executed, as_version=4)
        resources = self._resources(student, notebook)
        exporter = registered(self.converter.exporter, self._record)
        output, resources = exporter.from_notebook_node(nb, resources=resources)
        self.converter.write_single_notebook(output, resources)
        self.converter.set_permissions(self.assignment, student)
        self._zero_missing(student, notebook, {gid for c in nb.cells if (gid := grade_id(c))})

    def _zero_missing(self, student: str, notebook: str, present: set[str]) -> None:
        """A test cell the student deleted or renamed away scores 0 (nbgrader would leave it
        ungraded, waiting for a manual grade that no one gives an autograded test)."""
        with open_gradebook(self.db_url) as gb:
            submission = gb.find_submission_notebook(notebook, self.assignment, student)
            missing = [
                g
                for g in submission.grades
                if g.cell_type == "code" and g.name not in present and g.auto_score is None
            ]
            for grade in missing:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            if missing:
                gb.db.commit()

    def zero(self, student: str, notebook: str) -> None:
        """Score 0 on every cell of a notebook that could not be graded (as autograde scores a
        missing notebook), and remove any partial autograded copy of it."""
        with open_gradebook(self.db_url) as gb:
            submission = gb.find_submission_notebook(notebook, self.assignment, student)
            for grade in submission.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
            gb.db.commit()
        partial = self.course.autograded_dir(student, self.assignment) / f"{notebook}.ipynb"
        if partial.exists():
            partial.unlink()

    def scores(self, student: str) -> dict[str, tuple[float, float]]:
        """(score, max_score) of each notebook of the student's submission."""
        with open_gradebook(self.db_url) as gb:
            submission = gb.find_submission(self.assignment, student)
            return {nb.name: (float(nb.score), float(nb.max_score)) for nb in submission.notebooks}
