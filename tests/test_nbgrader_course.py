"""`NbgraderCourse`: the gradebook URL nbgrader would use, whatever folder the library runs from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from traitlets.config import Config

from nbcourse.nbgrader import NbgraderCourse


def course_with(root: Path, db_url: str) -> NbgraderCourse:
    config = Config()
    config.CourseDirectory.db_url = db_url
    return NbgraderCourse(root, config)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("sqlite:///gradebook.db", "sqlite:///{root}/gradebook.db"),
        ("sqlite:///grading/gradebook.db", "sqlite:///{root}/grading/gradebook.db"),
        ("sqlite:////srv/course/gradebook.db", "sqlite:////srv/course/gradebook.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://grader:secret@db/course", "postgresql+psycopg://grader:secret@db/course"),
    ],
)
def test_a_relative_sqlite_gradebook_is_the_course_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: str, expected: str
) -> None:
    root = tmp_path / "course"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a Jupyter server or a Dask client runs from anywhere
    course = course_with(root, configured)
    assert course.db_url == expected.format(root=root)
    assert course.config.CourseDirectory.db_url == expected.format(root=root)  # what nbgrader objects read
    assert os.getcwd() == str(elsewhere)


def test_the_default_gradebook_is_in_the_course_root(tmp_path: Path) -> None:
    assert NbgraderCourse(tmp_path).db_url == f"sqlite:///{tmp_path}/gradebook.db"
