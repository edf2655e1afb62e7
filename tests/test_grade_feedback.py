"""Feedback the project generates never shows a hidden test (nor the answer keys' paths).

For every assignment in source/, each notebook is recorded as graded with the worst case of
outputs, without running a kernel: every test cell failed with a traceback quoting each of its
lines (hidden ones included, as IPython quotes the failing code), printed a hidden line, and
raised an error naming an instructor-only file. Stock `nbgrader generate_feedback` on those
notebooks shows the hidden lines (which proves the scan can see a leak); `course feedback` must
show none of them, while still showing the failure's message.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from grading.leaks import hidden_lines, leaks, page_text

from nbcourse.nbgrader.cells import HIDDEN_BEGIN, HIDDEN_END
from notebooks import assignments, make_course, nbgrader

STUDENT = "learner"
MARKER_LINES = {HIDDEN_BEGIN, HIDDEN_END}
MESSAGE = "the hidden check says: use the right column"


def _worst_case(executed: str, private_file: str) -> str:
    nb = nbformat.reads(executed, as_version=4)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        lines = cell.source.splitlines()
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines[-3:]) + "\n"),
            nbformat.v4.new_output(
                "error",
                ename="AssertionError",
                evalue=MESSAGE,
                traceback=[
                    "\x1b[0;31mAssertionError\x1b[0m Traceback (most recent call last)",
                    *[f"\x1b[0;32m{i}\x1b[0m {line}" for i, line in enumerate(lines, 1)],
                    f"PermissionError: cannot read {private_file}",
                    f"\x1b[0;31mAssertionError\x1b[0m: {MESSAGE}",
                ],
            ),
        ]
    return nbformat.writes(nb)


@pytest.mark.parametrize("assignment", assignments())
def test_generated_feedback_shows_no_hidden_test_line(assignment: str, tmp_path: Path) -> None:
    from nbcourse.grading.feedback import feedback_files, generate_feedback, private_paths
    from nbcourse.grading.writer import Writer
    from nbcourse.nbgrader import NbgraderCourse

    root = make_course(tmp_path, assignment)
    course = NbgraderCourse.load(root)
    private = private_paths(course)
    assert private, "the course declares its instructor-only files (c.CourseGrader.private_paths)"
    submitted = course.submitted_dir(STUDENT, assignment)
    submitted.mkdir(parents=True)
    secrets: dict[str, set[str]] = {}  # per notebook: a line hidden in one may be public in another
    for nb_path in sorted(course.source_dir(assignment).glob("*.ipynb")):
        (submitted / nb_path.name).write_bytes((course.release_dir(assignment) / nb_path.name).read_bytes())
        secrets[nb_path.stem] = hidden_lines(nb_path, course.release_dir(assignment) / nb_path.name)
    (submitted / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    assert any(secrets.values()), f"{assignment} has no hidden tests to protect"

    def scan(pages: list[Path]) -> list[str]:
        return [line for page in pages for line in leaks(page, secrets[page.stem] | MARKER_LINES, private)]

    writer = Writer(course, assignment)
    for name in writer.init_submission(STUDENT, fresh=True):
        answer_key = f"{private[0]}/answers_{name}.json"
        writer.record(STUDENT, name, _worst_case(writer.sanitize(STUDENT, name)[0], answer_key))

    # Stock feedback of these notebooks leaks: the scan sees it.
    nbgrader(root, "generate_feedback", assignment, "--force")
    stock = [
        line for page in feedback_files(course, assignment, STUDENT) for line in leaks(page, secrets, private)
    ]
    assert stock, "stock feedback should show the hidden tests; the scan found none (is it blind?)"

    generate_feedback(course, assignment)
    pages = feedback_files(course, assignment, STUDENT)
    assert len(pages) == len(list(course.source_dir(assignment).glob("*.ipynb")))
    found = scan(pages)
    assert not found, "feedback shows hidden tests:\n" + "\n".join(found[:40])
    # The learner still reads why a test failed.
    assert all(MESSAGE in page_text(page) for page in pages)
