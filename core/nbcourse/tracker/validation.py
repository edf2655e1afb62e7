"""Check a manifest against the course's source notebooks: every `auto` item must point at real
grade cells of the right kind (`course validate`, and a test of the real course)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..nbgrader import grade_id, is_autograded_test, is_grade_cell, is_manual_answer, points
from .manifest import AutoSpec, Manifest


@dataclass(frozen=True)
class SourceIssue:
    item_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.message}"


@dataclass
class SourceReport:
    """Result of `check_against_source`.

    pending: auto items whose assignment folder does not exist yet (a module still to be written);
    errors: auto items that point at something missing or of the wrong kind in an existing one.
    """

    pending: list[SourceIssue] = field(default_factory=list)
    errors: list[SourceIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _GradeCell:
    grade_id: str
    autograded_test: bool  # grade and not solution: a test cell nbgrader scores automatically
    manual_answer: bool  # grade and solution: an answer cell a human grades
    points: float


def _read_grade_cells(notebook_path: Path) -> dict[str, _GradeCell]:
    """Grade cells of an nbgrader notebook by grade_id. Raises ValueError on unreadable JSON."""
    try:
        notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read {notebook_path}: {error}") from None
    raw_cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
    cells: dict[str, _GradeCell] = {}
    # Graded cells and manually graded tasks carry points; plain solution cells do not.
    for cell in (c for c in raw_cells if isinstance(c, dict) and is_grade_cell(c)):
        gid = str(grade_id(cell))
        cells[gid] = _GradeCell(
            grade_id=gid,
            autograded_test=is_autograded_test(cell),
            # A task cell is graded by a human too, but holds instructions, not an answer.
            manual_answer=is_manual_answer(cell),
            points=points(cell),
        )
    return cells


def check_against_source(manifest: Manifest, source_dir: Path) -> SourceReport:
    """Check that every `auto` item points at real notebooks and grade cells under source_dir.

    source_dir is the course's `source/` folder (one subfolder per assignment).
    """
    source_dir = Path(source_dir)
    report = SourceReport()
    cache: dict[Path, dict[str, _GradeCell] | str] = {}
    for item in manifest.iter_items():
        if item.auto is None:
            continue
        auto = item.auto
        folder = source_dir / auto.assignment
        if not folder.is_dir():
            report.pending.append(SourceIssue(item.id, f"assignment folder {folder} does not exist yet"))
            continue
        notebook_path = folder / f"{auto.notebook}.ipynb"
        if not notebook_path.is_file():
            report.errors.append(SourceIssue(item.id, f"notebook {notebook_path} does not exist"))
            continue
        if notebook_path not in cache:
            try:
                cache[notebook_path] = _read_grade_cells(notebook_path)
            except ValueError as error:
                cache[notebook_path] = str(error)
        cells = cache[notebook_path]
        if isinstance(cells, str):
            report.errors.append(SourceIssue(item.id, cells))
            continue
        for message in _rule_problems(auto, cells, notebook_path):
            report.errors.append(SourceIssue(item.id, message))
    return report


@dataclass(frozen=True)
class _CellsRule:
    """What a rule that names grade cells needs of them, and how to say a cell is the wrong kind."""

    noun: str  # what a named cell is called when it is missing
    needs: str  # the kind the rule needs (also the list shown when a name is not found)
    accepts: Callable[[_GradeCell], bool]
    wrong: Callable[[_GradeCell], str]  # what an unaccepted cell is instead


_CELLS_RULES = {
    "cells": _CellsRule(
        noun="grade cell",
        needs="autograded test cells",
        accepts=lambda c: c.autograded_test,
        wrong=lambda c: (
            "a manually graded answer (use rule 'answered')" if c.manual_answer else "a manually graded task"
        ),
    ),
    "answered": _CellsRule(
        noun="answer cell",
        needs="manually graded answer cells",
        accepts=lambda c: c.manual_answer,
        wrong=lambda c: (
            "an autograded test cell (use rule 'cells')"
            if c.autograded_test
            else "a manually graded task, which holds no answer"
        ),
    ),
}


def _rule_problems(auto: AutoSpec, cells: Mapping[str, _GradeCell], where: Path) -> list[str]:
    problems = []
    named = _CELLS_RULES.get(auto.rule)
    if named is not None:
        for grade_id in auto.cells:
            if grade_id not in cells:
                kinds = ", ".join(sorted(c.grade_id for c in cells.values() if named.accepts(c)))
                problems.append(
                    f"{named.noun} {grade_id!r} not found in {where} ({named.needs}: {kinds or 'none'})"
                )
            elif not named.accepts(cells[grade_id]):
                problems.append(
                    f"rule {auto.rule!r} needs {named.needs}, but {grade_id!r} in {where} is "
                    f"{named.wrong(cells[grade_id])}"
                )
    elif auto.rule == "all_cells" and not any(c.autograded_test for c in cells.values()):
        problems.append(f"rule 'all_cells' but {where} has no autograded test cells")
    elif auto.rule == "score":
        total = sum(c.points for c in cells.values())
        if auto.min_score is not None and auto.min_score > total:
            problems.append(f"min_score {auto.min_score:g} is more than the {total:g} points of {where}")
    return problems
