"""What `course grade` has finished, so a killed run resumes where it stopped.

Stock nbgrader decides by "does the autograded folder exist": a run killed half-way through a
submission leaves the folder, and the next run silently skips the half-graded submission. Here each
submission has a small JSON record, written atomically after each notebook's grades are committed:
the fingerprint of what was graded (the submitted files and the assignment's source) and the
notebooks done. A notebook is graded again unless its grades were committed and recorded for the
same fingerprint; grading it again overwrites the same gradebook rows (never a duplicate), so a
kill between the commit and the record costs one notebook's time, nothing else.

Records live in `<course root>/.nbcourse/grade/<assignment>/`, with per-notebook timings that
order the next run longest-first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

STATE_FOLDER = ".nbcourse/grade"
_TIMINGS = "_timings.json"


@dataclass
class NotebookRecord:
    score: float = 0.0
    max_score: float = 0.0
    problem: str | None = None
    seconds: float = 0.0


@dataclass
class SubmissionRecord:
    fingerprint: str = ""
    notebooks: dict[str, NotebookRecord] = field(default_factory=dict)
    problem: str | None = None  # a problem with the submission as a whole


def fingerprint(folders: list[Path], ignore: list[str]) -> str:
    """A hash of every file under `folders` (names and bytes), skipping nbgrader's ignore globs."""
    from nbgrader.utils import find_all_files

    digest = hashlib.sha256()
    for folder in folders:
        digest.update(str(folder.name).encode() + b"\0")
        if not folder.is_dir():
            continue
        for name in sorted(find_all_files(str(folder), ignore)):
            digest.update(os.path.relpath(name, folder).encode() + b"\0")
            with contextlib.suppress(OSError):
                digest.update(hashlib.sha256(Path(name).read_bytes()).digest())
    return digest.hexdigest()


def _atomic_write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class GradeState:
    """The records of one assignment."""

    def __init__(self, course_root: Path, assignment: str) -> None:
        self.folder = Path(course_root) / STATE_FOLDER / quote(assignment, safe="")

    def _path(self, student: str) -> Path:
        return self.folder / f"{quote(student, safe='')}.json"

    def load(self, student: str) -> SubmissionRecord:
        try:
            raw = json.loads(self._path(student).read_text(encoding="utf-8"))
            return SubmissionRecord(
                fingerprint=raw.get("fingerprint", ""),
                notebooks={k: NotebookRecord(**v) for k, v in raw.get("notebooks", {}).items()},
                problem=raw.get("problem"),
            )
        except (OSError, ValueError, TypeError):
            return SubmissionRecord()

    def save(self, student: str, record: SubmissionRecord) -> None:
        _atomic_write(self._path(student), asdict(record))

    def forget(self, student: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(student).unlink()

    # ---- timings for longest-first ----------------------------------------------------------

    def timings(self) -> dict[str, float]:
        try:
            return {k: float(v) for k, v in json.loads((self.folder / _TIMINGS).read_text()).items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def save_timings(self, observed: dict[str, list[float]]) -> None:
        if not observed:
            return
        known = self.timings()
        for notebook, seconds in observed.items():
            seconds = sorted(seconds)
            known[notebook] = seconds[len(seconds) // 2]
        _atomic_write(self.folder / _TIMINGS, known)
