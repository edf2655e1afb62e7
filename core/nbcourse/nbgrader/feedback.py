"""Feedback pages as nbgrader writes them, and as `nbgrader fetch_feedback` lays them out.

`fetch_feedback` copies one HTML page per notebook to
`<assignment>/feedback/<timestamp>/<notebook>.html` in the student's folder, and nbgrader's
feedback template writes every grade cell's score into the page's table of contents, so a
student who cannot read the instructor's gradebook still has their per-cell scores.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from pathlib import Path

from .grades import CellGrade, CellKind

# The folder name is fixed in nbgrader's ExchangeFetchFeedback.init_dest (not configurable).
FETCHED_FEEDBACK_FOLDER = "feedback"

# nbgrader's feedback template (server_extensions/formgrader/templates/feedback/index.html.j2)
# writes a table of contents: `<li><a href="#<grade_id>">Test cell</a> (Score: 1.0 / 1.0)</li>`,
# and the notebook total in the page heading: `<h4><notebook> (Score: 3.0 / 4.0)</h4>`.
_TOC_ENTRY = re.compile(
    r'<li><a href="#(?P<id>[^"]+)">(?P<label>Test cell|Coding free-response|Written response|Task)'
    r"</a>\s*\(Score:\s*(?P<score>[-\d.eE+]+)\s*/\s*(?P<max>[-\d.eE+]+)\)</li>"
)
_TOTAL = re.compile(r"<h4>[^<]*\(Score:\s*(?P<score>[-\d.eE+]+)\s*/\s*(?P<max>[-\d.eE+]+)\)</h4>")
_LABEL_KIND: dict[str, CellKind] = {
    "Test cell": "test",
    "Coding free-response": "answer",
    "Written response": "answer",
    "Task": "task",
}


class FeedbackParseError(ValueError):
    """A feedback page does not look like nbgrader's feedback template."""


def parse_feedback_html(text: str, where: str = "feedback") -> tuple[float, float, dict[str, CellGrade]]:
    """(score, max_score, cells) from one nbgrader feedback page."""
    total = _TOTAL.search(text)
    if total is None:
        raise FeedbackParseError(f"{where}: no '(Score: x / y)' heading; not an nbgrader feedback page")
    cells: dict[str, CellGrade] = {}
    for match in _TOC_ENTRY.finditer(text):
        gid = html.unescape(match["id"])
        cells[gid] = CellGrade(
            grade_id=gid,
            score=float(match["score"]),
            max_score=float(match["max"]),
            kind=_LABEL_KIND[match["label"]],
        )
    return float(total["score"]), float(total["max"]), cells


def as_utc(value: datetime | None) -> datetime | None:
    """nbgrader stores naive UTC datetimes; make them aware."""
    return value.replace(tzinfo=timezone.utc) if value and value.tzinfo is None else value


def parse_timestamp(text: str) -> datetime | None:
    """An nbgrader timestamp (a feedback folder name, timestamp.txt), or None when it is not one."""
    from nbgrader.utils import parse_utc

    try:
        parsed = parse_utc(text)
    except Exception:
        return None
    return as_utc(parsed)


def latest_fetched_feedback(
    student_dir: Path, assignment: str, notebook: str
) -> tuple[Path, datetime | None] | None:
    """The newest fetched feedback page of one notebook and its submission time, or None."""
    root = student_dir / assignment / FETCHED_FEEDBACK_FOLDER
    try:
        stamps = [p for p in root.iterdir() if (p / f"{notebook}.html").is_file()]
    except OSError:
        return None
    if not stamps:
        return None

    def order(folder: Path) -> tuple[datetime, str]:
        when = parse_timestamp(folder.name)
        return (when or datetime.min.replace(tzinfo=timezone.utc), folder.name)

    newest = max(stamps, key=order)
    return newest / f"{notebook}.html", parse_timestamp(newest.name)
