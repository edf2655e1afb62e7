"""Helpers the course tests share: finding assignments, reading nbgrader cells, running notebooks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "source"
RELEASE = ROOT / "release"
DATA = ROOT / "data"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def assignments() -> list[str]:
    """Assignments present in source/ (later modules appear as they are written)."""
    if not SOURCE.is_dir():
        return []
    return sorted(p.name for p in SOURCE.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def notebooks(assignment: str) -> list[Path]:
    return sorted((SOURCE / assignment).glob("*.ipynb"))


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_autograded_test(cell: nbformat.NotebookNode) -> bool:
    """An autograded test cell: a graded code cell that is not itself an answer."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def grade_ids(nb: nbformat.NotebookNode, predicate=is_autograded_test) -> list[str]:
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if predicate(c)]


def course_env() -> dict[str, str]:
    """Environment for kernels and nbgrader: the course data found by path from anywhere."""
    return dict(os.environ, COURSE_DATA_DIR=str(DATA))


def error_text(cell: nbformat.NotebookNode) -> str:
    """Everything nbgrader would count as failure in a cell's outputs, without colour codes."""
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}\n" + "\n".join(out.traceback))
        elif out.output_type == "stream" and out.name == "stderr":
            parts.append(out.text)
    return ANSI.sub("", "\n".join(parts))


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 120) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel, keeping errors in the outputs instead of raising."""
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=course_env())
    return nb


@dataclass
class CellScore:
    notebook: str
    grade_id: str
    score: float
    max_score: float
    autograded: bool


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(course_env(), COURSE_DB_URL=f"sqlite:///{course / 'gradebook.db'}")
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_course(tmp: Path, assignment: str) -> Path:
    """A throwaway nbgrader course holding one assignment of the real course."""
    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE / assignment, course / "source" / assignment)
    nbgrader(course, "generate_assignment", assignment, "--force")
    return course


def submit(course: Path, assignment: str, student: str, files_from: Path) -> None:
    target = course / "submitted" / student / assignment
    target.mkdir(parents=True)
    for nb in sorted(files_from.glob("*.ipynb")):
        shutil.copy(nb, target / nb.name)
    (target / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")


def scores(course: Path, assignment: str, student: str) -> list[CellScore]:
    from nbgrader.api import Gradebook

    result: list[CellScore] = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(assignment, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                result.append(
                    CellScore(
                        notebook=nb.name,
                        grade_id=grade.name,
                        score=grade.score,
                        max_score=grade.max_score,
                        autograded=grade.auto_score is not None and grade.cell_type == "code",
                    )
                )
    return result
