"""Answers kept as fixtures: wrong ones must be rejected with a teaching message, correct ones accepted.

Each fixture file `tests/wrong_answers/<assignment>/<notebook>.yaml` lists answers a learner might
really write (wrong, or gaming the tests). The runner puts one into the source notebook in place of
the reference solution, executes the notebook up to the last test cell it names, and checks that each
named test cell fails with a message containing the given words.

`tests/accepted_answers/<assignment>/<notebook>.yaml` lists *correct alternative* answers (another
valid approach than the reference: a different but valid feature, a stricter split, sample vs
population standard deviation where the exercise does not fix it). Same runner; each named test cell
must pass. Entries: `name`, `why`, `replace` ({grade id of an answer cell: source}), `passes` (test
cell grade ids).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from notebooks import SOURCE, assignments, error_text, execute, is_autograded_test, nbgrader_meta

FIXTURES = Path(__file__).resolve().parent / "wrong_answers"
ACCEPTED = Path(__file__).resolve().parent / "accepted_answers"
# Exercise and checkpoint tests need two wrong answers each; the core notebook's inline ones, one.
REQUIRED_WRONG_ANSWERS = {"exercises": 2, "checkpoint": 2, "quiz": 2, "exam": 2, "capstone": 2}
DEFAULT_REQUIRED = 1


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yaml"))


def accepted_files() -> list[Path]:
    return sorted(ACCEPTED.glob("*/*.yaml"))


def load(path: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    assert isinstance(entries, list), f"{path}: expected a list of wrong answers"
    return entries


def cases(files: list[Path] | None = None) -> list[Any]:
    params = []
    for path in fixture_files() if files is None else files:
        for entry in load(path):
            params.append(pytest.param(path, entry, id=f"{path.parent.name}/{path.stem}/{entry['name']}"))
    return params


def source_notebook(fixture: Path) -> Path:
    return SOURCE / fixture.parent.name / f"{fixture.stem}.ipynb"


@pytest.mark.parametrize(
    "fixture",
    fixture_files() + accepted_files(),
    ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.stem}",
)
def test_fixture_file_is_well_formed(fixture: Path) -> None:
    nb_path = source_notebook(fixture)
    assert nb_path.is_file(), f"{fixture}: no notebook {nb_path}"
    nb = nbformat.read(nb_path, as_version=4)
    solutions = {nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")}
    tests = {nbgrader_meta(c)["grade_id"] for c in nb.cells if is_autograded_test(c)}
    names = [e.get("name") for e in load(fixture)]
    assert len(names) == len(set(names)), f"{fixture}: duplicate names"
    verdict, needed = (
        ("passes", {"name", "why", "replace", "passes"})
        if fixture.is_relative_to(ACCEPTED)
        else (
            "fails",
            {"name", "why", "replace", "fails", "message"},
        )
    )
    for entry in load(fixture):
        assert needed <= entry.keys(), f"{fixture}: {entry}"
        assert set(entry["replace"]) <= solutions, f"{entry['name']}: replaces a cell that is no answer"
        assert entry[verdict] and set(entry[verdict]) <= tests, f"{entry['name']}: unknown test cell"


def run_with_replacements(fixture: Path, entry: dict[str, Any], checked: list[str]) -> tuple[Any, dict]:
    """The source notebook with the entry's answers in place, executed up to its last checked cell."""
    nb_path = source_notebook(fixture)
    nb = nbformat.read(nb_path, as_version=4)
    index = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
    for grade_id, replacement in entry["replace"].items():
        nb.cells[index[grade_id]].source = replacement
    last = max(index[g] for g in checked)
    nb.cells = nb.cells[: last + 1]  # nothing after the last checked cell can change the verdict
    execute(nb, cwd=nb_path.parent)
    return nb, index


@pytest.mark.parametrize("assignment", assignments())
def test_every_test_cell_rejects_enough_wrong_answers(assignment: str) -> None:
    for nb_path in sorted((SOURCE / assignment).glob("*.ipynb")):
        fixture = FIXTURES / assignment / f"{nb_path.stem}.yaml"
        entries = load(fixture) if fixture.is_file() else []
        nb = nbformat.read(nb_path, as_version=4)
        required = next(
            (n for key, n in REQUIRED_WRONG_ANSWERS.items() if nb_path.stem.endswith(key)), DEFAULT_REQUIRED
        )
        for cell in nb.cells:
            if not is_autograded_test(cell):
                continue
            grade_id = nbgrader_meta(cell)["grade_id"]
            count = sum(grade_id in e["fails"] for e in entries)
            assert count >= required, (
                f"{assignment}/{nb_path.name}: test cell {grade_id} is checked against {count} "
                f"wrong answer(s); at least {required} needed in {fixture.relative_to(FIXTURES.parent)}"
            )


@pytest.mark.slow
@pytest.mark.parametrize(("fixture", "entry"), cases())
def test_wrong_answer_is_rejected(fixture: Path, entry: dict[str, Any]) -> None:
    nb, index = run_with_replacements(fixture, entry, entry["fails"])
    for grade_id in entry["fails"]:
        text = error_text(nb.cells[index[grade_id]])
        assert text, f"{entry['name']}: test cell {grade_id} accepted this wrong answer ({entry['why']})"
        assert entry["message"].lower() in text.lower(), (
            f"{entry['name']}: {grade_id} failed, but its message does not teach "
            f"(expected {entry['message']!r} in):\n{text[-1500:]}"
        )


@pytest.mark.slow
@pytest.mark.parametrize(("fixture", "entry"), cases(accepted_files()))
def test_correct_alternative_is_accepted(fixture: Path, entry: dict[str, Any]) -> None:
    nb, index = run_with_replacements(fixture, entry, entry["passes"])
    for grade_id in entry["passes"]:
        text = error_text(nb.cells[index[grade_id]])
        assert not text, (
            f"{entry['name']}: test cell {grade_id} rejected a correct answer ({entry['why']}):\n"
            + text[-1500:]
        )
