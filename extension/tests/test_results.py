"""Result sources: a real nbgrader gradebook, and feedback pages fetched into a student's home."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from nbcourse.nbgrader import FeedbackParseError, parse_feedback_html
from nbcourse.nbgrader import read_db_url as read_nbgrader_db_url
from nbcourse.tracker.results import FeedbackSource, GradebookSource, ResultsReader

# The fixture course's names (see conftest.py).
ASSIGNMENT, NOTEBOOK, STUDENT = "ps1", "problem1", "learner"
PAIRS = [(ASSIGNMENT, NOTEBOOK)]


def _reader(course: Path, student: str = STUDENT, workspace: Path | None = None) -> ResultsReader:
    db_url = read_nbgrader_db_url(course)
    assert db_url is not None
    return ResultsReader(db_url, course, workspace or course / "workspace", student)


def test_gradebook_results_from_a_real_autograde(graded_course: Path) -> None:
    results = _reader(graded_course).read(PAIRS)
    assert results.source == "gradebook"
    grade = results.get(ASSIGNMENT, NOTEBOOK)
    assert grade is not None
    # One autograded test cell (1 point, passed) + one written answer waiting for a human.
    assert (grade.score, grade.max_score) == (1.0, 2.0)
    test, answer = grade.cells["test_squares"], grade.cells["explain"]
    assert (test.kind, test.score, test.max_score, test.full_marks) == ("test", 1.0, 1.0, True)
    assert answer.kind == "answer" and answer.needs_manual_grade and not answer.full_marks
    assert grade.submitted == datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    assert grade.feedback_path == graded_course / "feedback" / STUDENT / ASSIGNMENT / "problem1.html"
    assert grade.submission_path == (graded_course / "autograded" / STUDENT / ASSIGNMENT / "problem1.ipynb")


def test_gradebook_without_the_student_falls_through_to_none(graded_course: Path) -> None:
    results = _reader(graded_course, student="someone_else").read(PAIRS)
    assert results.source == "none"
    assert results.notebooks == {}


def test_missing_sqlite_gradebook_is_not_created_by_reading(course_root: Path) -> None:
    (course_root / "gradebook.db").unlink()
    results = _reader(course_root).read(PAIRS)
    assert results.source == "none"
    assert not (course_root / "gradebook.db").exists()


def test_unreadable_gradebook_url_means_next_source(tmp_path: Path) -> None:
    source = GradebookSource("postgresql://nobody@127.0.0.1:1/none", tmp_path, STUDENT)
    assert source.read([ASSIGNMENT]) is None


def test_gradebook_cache_follows_the_database_file(graded_course: Path) -> None:
    reader = _reader(graded_course)
    first = reader.read(PAIRS)
    assert reader.read(PAIRS).notebooks is first.notebooks  # unchanged db: the cached answer
    db = graded_course / "gradebook.db"
    st = db.stat()
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert reader.read(PAIRS).notebooks is not first.notebooks


def test_parse_real_nbgrader_feedback_page(graded_course: Path) -> None:
    page = graded_course / "feedback" / STUDENT / ASSIGNMENT / "problem1.html"
    score, max_score, cells = parse_feedback_html(page.read_text())
    assert (score, max_score) == (1.0, 2.0)
    assert set(cells) == {"test_squares", "explain"}
    assert cells["test_squares"].kind == "test" and cells["test_squares"].full_marks
    assert cells["explain"].kind == "answer"
    assert (cells["explain"].score, cells["explain"].max_score) == (0.0, 1.0)


def test_parse_rejects_a_page_that_is_not_feedback() -> None:
    with pytest.raises(FeedbackParseError, match=re.escape("page.html: no '(Score: x / y)' heading")):
        parse_feedback_html("<html><body>hello</body></html>", "page.html")


def _fetch_feedback(graded_course: Path, home: Path, timestamp: str, page_text: str | None = None) -> Path:
    """Lay out a page as `nbgrader fetch_feedback` does: <home>/<assignment>/feedback/<ts>/."""
    folder = home / ASSIGNMENT / "feedback" / timestamp
    folder.mkdir(parents=True)
    target = folder / f"{NOTEBOOK}.html"
    if page_text is None:
        shutil.copy(graded_course / "feedback" / STUDENT / ASSIGNMENT / "problem1.html", target)
    else:
        target.write_text(page_text)
    return target


def test_feedback_source_used_when_no_gradebook_has_the_student(graded_course: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    page = _fetch_feedback(graded_course, home, "2026-11-20 09:00:00.000000 UTC")
    results = _reader(graded_course, student="hub_student", workspace=home).read(PAIRS)
    assert results.source == "feedback"
    grade = results.get(ASSIGNMENT, NOTEBOOK)
    assert grade is not None and grade.feedback_path == page
    assert (grade.score, grade.max_score) == (1.0, 2.0)
    assert grade.submitted == datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def test_feedback_source_uses_newest_timestamp(graded_course: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    older = (graded_course / "feedback" / STUDENT / ASSIGNMENT / "problem1.html").read_text()
    newer = older.replace("(Score: 1.0 / 2.0)", "(Score: 2.0 / 2.0)")
    _fetch_feedback(graded_course, home, "2026-11-20 09:00:00.000000 UTC", older)
    _fetch_feedback(graded_course, home, "2026-11-25 09:00:00.000000 UTC", newer)
    _fetch_feedback(graded_course, home, "2026-11-03 09:00:00.000000 UTC", older)
    grades = FeedbackSource(home).read(PAIRS)
    assert grades[(ASSIGNMENT, NOTEBOOK)].score == 2.0


def test_unparseable_feedback_page_is_skipped(graded_course: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fetch_feedback(graded_course, home, "2026-11-20 09:00:00.000000 UTC", "<html>nope</html>")
    assert FeedbackSource(home).read(PAIRS) == {}


def test_feedback_written_after_the_grades_is_found_without_a_gradebook_change(
    graded_course: Path,
) -> None:
    """Issue 14.1: a read between autograde and generate_feedback cached "no feedback" for good."""
    page = graded_course / "feedback" / STUDENT / ASSIGNMENT / "problem1.html"
    kept = page.read_bytes()
    page.unlink()
    reader = _reader(graded_course)
    first = reader.read(PAIRS).get(ASSIGNMENT, NOTEBOOK)
    assert first is not None and first.feedback_path is None
    page.write_bytes(kept)  # generate_feedback finishes; the gradebook is not touched again
    again = reader.read(PAIRS).get(ASSIGNMENT, NOTEBOOK)
    assert again is not None and again.feedback_path == page
