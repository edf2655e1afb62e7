"""Feedback that never shows a hidden test: nbgrader's `generate_feedback` with one preprocessor more.

Stock feedback renders the autograded notebook, whose test cells nbgrader restored from the
gradebook *with* their hidden tests, and whose tracebacks quote the failing hidden lines. Before
nbgrader's own feedback preprocessors run, `HideHiddenTests`:

- replaces every hidden-test region (and mark-scheme region) of a cell by one comment line;
- cuts the traceback of a failed hidden test to its last line (`AssertionError: <message>`), the
  message the test's author wrote for the learner; any other output that quotes a hidden line has
  that line replaced;
- replaces the paths the course declares private (`c.CourseGrader.private_paths`, e.g. the
  instructor-only answer keys) wherever they appear.

A "hidden line" is a line of a hidden region that appears nowhere else in the notebook (a line the
learner can see anyway, like `import numpy as np`, is not a secret).
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import List, Unicode

from ..nbgrader import NbgraderCourse, cell_text
from ..nbgrader.cells import (
    HIDDEN_BEGIN,
    HIDDEN_END,
    INSIDE,
    MARK_SCHEME_BEGIN,
    MARK_SCHEME_END,
    OPENS,
    OUTSIDE,
    PRIVATE_BLOCKS,
    region_lines,
)

HIDDEN_NOTE = "# (hidden tests are not shown)"
REDACTED = "(hidden)"
PRIVATE = "<instructor-only file>"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MARKERS = (HIDDEN_BEGIN, HIDDEN_END, MARK_SCHEME_BEGIN, MARK_SCHEME_END)
# Lines this short ("pass", "else:", ")") say nothing about a test.
MIN_SECRET_LENGTH = 8


def quotes(line: str, secret: str) -> bool:
    """Whether `line` ends with the whole line `secret` (as a traceback quotes code: `----> 5 <line>`)."""
    stripped = line.rstrip()
    if not stripped.endswith(secret):
        return False
    before = stripped[: len(stripped) - len(secret)]
    return not before or not (before[-1].isalnum() or before[-1] == "_")


def split_regions(text: str) -> tuple[list[str], list[str]]:
    """(visible lines, lines inside hidden or mark-scheme regions) of a cell's text."""
    lines = region_lines(text, PRIVATE_BLOCKS)
    return [t for t, at in lines if at == OUTSIDE], [t for t, at in lines if at == INSIDE]


def secret_lines(cells: Iterable[Any]) -> set[str]:
    """Hidden-region lines (stripped) that the notebook shows nowhere else."""
    shown: set[str] = set()
    hidden: set[str] = set()
    for cell in cells:
        visible, secret = split_regions(cell_text(cell))
        shown.update(line.strip() for line in visible)
        hidden.update(line.strip() for line in secret)
    return {line for line in hidden - shown if len(line) >= MIN_SECRET_LENGTH}


def _strip_hidden(text: str) -> str:
    """The text with each private region replaced by one note at the region's indentation."""
    out = [
        line if at == OUTSIDE else line[: len(line) - len(line.lstrip())] + HIDDEN_NOTE
        for line, at in region_lines(text, PRIVATE_BLOCKS)
        if at in (OUTSIDE, OPENS)
    ]
    return "\n".join(out)


class HideHiddenTests(Preprocessor):  # type: ignore[misc]
    """See the module docstring."""

    enabled = True
    private_paths = List(Unicode(), help="Absolute paths whose mention is replaced in feedback.").tag(
        config=True
    )

    def _redact(self, text: str, secrets: set[str]) -> str:
        for path in sorted(self.private_paths, key=len, reverse=True):
            text = re.sub(re.escape(path.rstrip("/")) + r"(/[^\s'\"]*)?", PRIVATE, text)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            plain = _ANSI.sub("", line)
            if any(quotes(plain, secret) for secret in secrets) or any(m in plain for m in _MARKERS):
                lines[i] = REDACTED
        return "\n".join(lines)

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        secrets = secret_lines(nb.cells)
        for cell in nb.cells:
            had_hidden = bool(split_regions(cell_text(cell))[1])
            if had_hidden:
                cell.source = _strip_hidden(cell_text(cell))
            for output in cell.get("outputs", []):
                self._clean_output(output, secrets, had_hidden)
        return nb, resources

    def _clean_output(self, output: Any, secrets: set[str], from_hidden_test: bool) -> None:
        kind = output.get("output_type")
        if kind == "error":
            evalue = self._redact(str(output.get("evalue", "")), secrets)
            trace = [self._redact(line, secrets) for line in output.get("traceback", [])]
            if from_hidden_test or trace != list(output.get("traceback", [])):
                trace = [f"{output.get('ename', 'Error')}: {evalue}"]
            output["evalue"] = evalue
            output["traceback"] = trace
        elif kind == "stream":
            output["text"] = self._redact(str(output.get("text", "")), secrets)
        elif kind in ("display_data", "execute_result"):
            data = output.get("data", {})
            for mime in list(data):
                if isinstance(data[mime], str) and (mime.startswith("text/") or mime.endswith("json")):
                    data[mime] = self._redact(data[mime], secrets)


def private_paths(course: NbgraderCourse) -> list[str]:
    """The course's private paths (`c.CourseGrader.private_paths`, relative to the root) as absolute."""
    configured = course.config.get("CourseGrader", {}).get("private_paths", [])
    return [str((course.root / p).resolve()) for p in configured] + [str(p) for p in configured]


def generate_feedback(course: NbgraderCourse, assignment: str, students: Sequence[str] | None = None) -> None:
    """nbgrader's GenerateFeedback for `assignment` (every graded student, or `students`), hidden
    tests hidden."""
    from nbgrader.converters import GenerateFeedback
    from traitlets.config import Config

    config = Config(course.config)
    base = list(
        config.get("GenerateFeedback", {}).get("preprocessors", GenerateFeedback.preprocessors.default())
    )
    config.GenerateFeedback.preprocessors = [HideHiddenTests, *[p for p in base if p is not HideHiddenTests]]
    config.HideHiddenTests.private_paths = private_paths(course)
    config.GenerateFeedback.force = True
    for student in students or ["*"]:
        coursedir = type(course.coursedir)(config=config)
        coursedir.root = str(course.root)
        coursedir.assignment_id = assignment
        # nbgrader globs the student id: a real id is matched literally.
        coursedir.student_id = student if student == "*" else glob.escape(student)
        converter = GenerateFeedback(coursedir=coursedir, config=config)
        converter.start()


def feedback_files(course: NbgraderCourse, assignment: str, student: str) -> list[Path]:
    return sorted(course.feedback_dir(student, assignment).glob("*.html"))
