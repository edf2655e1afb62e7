"""A learner's grades as every part of the library sees them, whichever source they came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

CellKind = Literal["test", "answer", "task"]


@dataclass(frozen=True)
class CellGrade:
    """One grade cell of a submitted notebook."""

    grade_id: str
    score: float
    max_score: float
    kind: CellKind  # test: autograder test cell; answer: manually graded answer; task: task cell
    needs_manual_grade: bool = False

    @property
    def full_marks(self) -> bool:
        return not self.needs_manual_grade and self.score >= self.max_score


@dataclass(frozen=True)
class NotebookGrade:
    """The latest grade of one notebook of one learner."""

    assignment: str
    notebook: str
    score: float
    max_score: float
    cells: Mapping[str, CellGrade]
    submitted: datetime | None = None
    feedback_path: Path | None = None
    # The submitted notebook file itself, when it is on disk (the autograded copy).
    submission_path: Path | None = None
