"""A cohort of submissions built from the course's own material, for grading tests and benchmarks.

- `reference`: the source notebooks (solutions in place; autograde restores the test cells);
- `blank`: the released notebooks, stubs untouched;
- one student per wrong answer in tests/wrong_answers/<assignment>/<notebook>.yaml: the released
  notebook with every solution cell filled with the reference answer, then the wrong answer put
  in place of the cells it replaces (so each differs from a full-marks notebook by one mistake);
- `tampered`: the reference answers, with every visible test cell emptied to `pass` and its
  checksum left as it was (OverwriteCells must restore the master copies).
"""

from __future__ import annotations

import copy
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from nbcourse.nbgrader import grade_id, is_autograded_test, nbgrader_meta

TESTS = Path(__file__).resolve().parent.parent
WRONG_ANSWERS = TESTS / "wrong_answers"
TIMESTAMP = "2026-01-01 00:00:00.000000 UTC"
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Submission:
    student: str
    notebooks: dict[str, nbformat.NotebookNode]  # notebook name -> content


def _solutions(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    return {
        grade_id(c): c.source for c in source_nb.cells if nbgrader_meta(c).get("solution") and grade_id(c)
    }


def _filled(release_nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers:
            cell.source = answers[gid]
    return nb


def wrong_answers(assignment: str, notebook: str) -> list[dict]:
    path = WRONG_ANSWERS / assignment / f"{notebook}.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.is_file() else []


def cohort(source: Path, release: Path, notebooks: list[str] | None = None) -> list[Submission]:
    """Submissions for one assignment (`source`/`release` are its two folders).

    notebooks: the notebooks whose wrong answers make students (default: all of them).
    """
    assignment = source.name
    names = sorted(p.stem for p in source.glob("*.ipynb"))
    src = {n: nbformat.read(source / f"{n}.ipynb", as_version=4) for n in names}
    rel = {n: nbformat.read(release / f"{n}.ipynb", as_version=4) for n in names}
    subs = [Submission("reference", src), Submission("blank", rel)]
    tampered = {}
    for n in names:
        nb = _filled(rel[n], _solutions(src[n]))
        for cell in nb.cells:
            if is_autograded_test(cell):
                cell.source = "pass"
        tampered[n] = nb
    subs.append(Submission("tampered", tampered))
    for n in notebooks if notebooks is not None else names:
        for entry in wrong_answers(assignment, n):
            answers = {**_solutions(src[n]), **entry["replace"]}
            student = _UNSAFE.sub("-", f"{n}-{entry['name']}".lower())
            subs.append(Submission(student, {n: _filled(rel[n], answers)}))
    return subs


def submit_all(course: Path, assignment: str, submissions: list[Submission], submitted: Path) -> None:
    """Write each submission under `submitted/<student>/<assignment>/` with a timestamp."""
    for sub in submissions:
        target = submitted / sub.student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name, nb in sub.notebooks.items():
            nbformat.write(nb, target / f"{name}.ipynb")
        (target / "timestamp.txt").write_text(TIMESTAMP)
