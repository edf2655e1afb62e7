"""Read time of the instructor's cohort view on a generated 500-student gradebook (goal: < 200 ms).

Builds a throwaway course root (the real course.yaml and nbgrader_config.py, the real source/
linked in) whose SQLite gradebook holds the course's real assignments, notebooks and grade
cells, and one graded submission of every assignment for every student (a grade for every grade
cell, so the report reads the whole table). Submissions are also on disk, as `nbgrader collect`
leaves them, plus a few that are not graded yet. Then it times what GET /course-tracker/cohort
runs: `CohortService.report()` with its cache dropped, so each run rebuilds the report from
the database.

    uv run python benchmarks/cohort_view.py [--students 500] [--runs 7] [--keep DIR] [--postgres]

`generate_cohort` is also used by the tests (a small cohort whose report is checked for
completeness) and by the cohort view's browser test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 200.0
# The grade ids of the test cells a generated cohort fails most, with the message they fail with
# (written into the autograded notebooks, where the cohort view reads failure messages).
FAILURE_MESSAGE = "AssertionError: expected {gid} to pass the hidden checks"


@dataclass
class GradeCellDef:
    name: str
    points: float
    cell_type: str  # "code" or "markdown"
    solution: bool  # a grade cell that is also a solution cell: a written/coded answer


@dataclass
class NotebookDef:
    assignment: str
    name: str
    cells: list[GradeCellDef]
    solution_only: list[str] = field(default_factory=list)  # solution cells without points


@dataclass
class Cohort:
    course_root: Path
    db_url: str
    students: list[str]
    notebooks: list[NotebookDef]
    # (student, assignment, notebook, grade_id) of every autograded test cell that was failed
    failed: set[tuple[str, str, str, str]]
    # (student, assignment) submitted on disk but not in the gradebook
    waiting: list[tuple[str, str]]


def course_notebooks(course_root: Path = ROOT) -> list[NotebookDef]:
    """The real course's grade cells, read from source/ for the assignments course.yaml lists."""
    from nbcourse.nbgrader import cells_by_grade_id, nbgrader_meta, read_notebook
    from nbcourse.tracker.manifest import MANIFEST_FILE, load_manifest

    manifest = load_manifest(course_root / MANIFEST_FILE)
    found = []
    for assignment in manifest.assignments:
        for name in assignment.notebooks:
            nb = read_notebook(course_root / "source" / assignment.id / f"{name}.ipynb")
            if nb is None:
                continue
            cells, solutions = [], []
            for gid, cell in cells_by_grade_id(nb).items():
                meta = nbgrader_meta(cell)
                if meta.get("grade"):
                    kind = "markdown" if cell.get("cell_type") == "markdown" else "code"
                    points = float(meta.get("points") or 0.0)
                    cells.append(GradeCellDef(gid, points, kind, bool(meta.get("solution"))))
                elif meta.get("solution"):
                    solutions.append(gid)
            found.append(NotebookDef(assignment.id, name, cells, solutions))
    return found


def make_course_root(target: Path, source: Path = ROOT) -> Path:
    """A course root of its own (so generated submissions never land in the repository)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("course.yaml", "nbgrader_config.py"):
        shutil.copy(source / name, target / name)
    (target / "source").symlink_to(source / "source", target_is_directory=True)
    return target


def _record_course(gb: Any, notebooks: list[NotebookDef]) -> None:
    """Assignments, notebooks and cells through nbgrader's own API (as generate_assignment does)."""
    for assignment in dict.fromkeys(nb.assignment for nb in notebooks):
        gb.update_or_create_assignment(assignment)
    for nb in notebooks:
        gb.add_notebook(nb.name, nb.assignment)
        for cell in nb.cells:
            gb.add_grade_cell(
                cell.name, nb.name, nb.assignment, max_score=cell.points, cell_type=cell.cell_type
            )
            if cell.solution:
                gb.add_solution_cell(cell.name, nb.name, nb.assignment)
        for name in nb.solution_only:
            gb.add_solution_cell(name, nb.name, nb.assignment)


def generate_cohort(
    course_root: Path,
    n_students: int,
    *,
    seed: int = 13,
    waiting: int = 3,
    autograded_notebooks: bool = False,
    notebooks: list[NotebookDef] | None = None,
    db_url: str | None = None,
) -> Cohort:
    """Fill `course_root` with a graded cohort of `n_students` (bulk inserts: seconds, not minutes).

    Every student has a graded submission of every notebook, and a grade for every grade cell.
    Each student has a skill level; each test cell a difficulty; a test passes when a draw
    beats the difficulty, so some tests are failed by most of the cohort. With
    `autograded_notebooks`, each failed test cell's error is written into the student's
    autograded notebook, where the cohort view reads its failure messages. `db_url` names
    another (empty) gradebook database, e.g. PostgreSQL; default: SQLite in the course root.
    """
    from nbgrader.api import (
        Assignment,
        Grade,
        Gradebook,
        GradeCell,
        Notebook,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
    )

    from nbcourse.nbgrader import NbgraderCourse

    notebooks = course_notebooks() if notebooks is None else notebooks
    db_url = db_url or f"sqlite:///{course_root / 'gradebook.db'}"
    rng = random.Random(seed)
    students = [f"student{i:04d}" for i in range(n_students)]
    assignments = list(dict.fromkeys(nb.assignment for nb in notebooks))
    course = NbgraderCourse.load(course_root)
    start = datetime(2026, 11, 2, 9, 0)
    failed: set[tuple[str, str, str, str]] = set()
    difficulty = {(nb.name, c.name): rng.uniform(0.05, 0.7) for nb in notebooks for c in nb.cells}

    with Gradebook(db_url) as gb:
        _record_course(gb, notebooks)
        session = gb.db
        notebook_ids = {
            (assignment, name): nb_id
            for nb_id, name, assignment in session.query(Notebook.id, Notebook.name, Assignment.name)
            .join(Assignment, Notebook.assignment_id == Assignment.id)
            .all()
        }
        assignment_ids = {a.name: a.id for a in gb.assignments}
        cell_ids = {
            (nb_id, name): cid
            # grade cells only: an answer's solution cell has the same name
            for cid, name, nb_id in session.query(GradeCell.id, GradeCell.name, GradeCell.notebook_id)
        }
        student_rows, submission_rows, notebook_rows, grade_rows = [], [], [], []
        submitted_at: dict[tuple[str, str], datetime] = {}
        for s_index, student in enumerate(students):
            student_rows.append({"id": student, "first_name": "Student", "last_name": f"{s_index:04d}"})
            skill = rng.uniform(0.3, 1.0)
            for a_index, assignment in enumerate(assignments):
                when = start + timedelta(days=7 * a_index, minutes=rng.randint(0, 6000))
                submitted_at[(student, assignment)] = when
                sub_id = uuid.uuid4().hex
                submission_rows.append(
                    {
                        "id": sub_id,
                        "assignment_id": assignment_ids[assignment],
                        "student_id": student,
                        "timestamp": when,
                    }
                )
                for nb in (n for n in notebooks if n.assignment == assignment):
                    nb_id = notebook_ids[(assignment, nb.name)]
                    snb_id = uuid.uuid4().hex
                    notebook_rows.append(
                        {
                            "id": snb_id,
                            "assignment_id": sub_id,
                            "notebook_id": nb_id,
                            "flagged": False,
                            "late_submission_penalty": None,
                        }
                    )
                    for cell in nb.cells:
                        manual = cell.cell_type == "markdown"
                        passed = rng.random() * skill > difficulty[(nb.name, cell.name)] * 0.6
                        score = cell.points if passed else 0.0
                        if manual:
                            score = round(cell.points * rng.uniform(0.3, 1.0) * skill, 1)
                        elif not passed and not cell.solution:
                            failed.add((student, assignment, nb.name, cell.name))
                        grade_rows.append(
                            {
                                "id": uuid.uuid4().hex,
                                "notebook_id": snb_id,
                                "cell_id": cell_ids[(nb_id, cell.name)],
                                "auto_score": None if manual else score,
                                "manual_score": score if manual else None,
                                "extra_credit": None,
                                "needs_manual_grade": False,
                            }
                        )
        # Core inserts in executemany batches: nbgrader's add_submission would take minutes here.
        for table, rows in (
            (Student.__table__, student_rows),
            (SubmittedAssignment.__table__, submission_rows),
            (SubmittedNotebook.__table__, notebook_rows),
            (Grade.__table__, grade_rows),
        ):
            if rows:
                session.execute(table.insert(), rows)
        session.commit()

    # On disk, as `nbgrader collect` leaves them: every graded submission, and a few new ones.
    late = [(students[i % n_students], assignments[-1]) for i in range(waiting)] if students else []
    late_ids = set(late)
    for (student, assignment), when in submitted_at.items():
        if (student, assignment) in late_ids:
            when = when + timedelta(days=1)  # resubmitted after it was graded
        folder = course.submitted_dir(student, assignment)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    if autograded_notebooks:
        _write_autograded(course, students, notebooks, failed)
    return Cohort(course_root, db_url, students, notebooks, failed, late)


def _write_autograded(course: Any, students: list[str], notebooks: list[NotebookDef], failed: set) -> None:
    """Autograded notebooks holding just the failed test cells, each with its error output."""
    for student in students:
        for nb in notebooks:
            cells = [
                {
                    "cell_type": "code",
                    "execution_count": 1,
                    "id": cell.name,
                    "metadata": {
                        "nbgrader": {
                            "grade": True,
                            "grade_id": cell.name,
                            "points": cell.points,
                            "solution": False,
                            "locked": True,
                            "schema_version": 3,
                        }
                    },
                    "outputs": [
                        {
                            "output_type": "error",
                            "ename": "AssertionError",
                            "evalue": FAILURE_MESSAGE.format(gid=cell.name).split(": ", 1)[1],
                            "traceback": [],
                        }
                    ],
                    "source": "# hidden tests",
                }
                for cell in nb.cells
                if (student, nb.assignment, nb.name, cell.name) in failed
            ]
            folder = course.autograded_dir(student, nb.assignment)
            folder.mkdir(parents=True, exist_ok=True)
            document = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
            (folder / f"{nb.name}.ipynb").write_text(json.dumps(document))


def cohort_service(course_root: Path, db_url: str) -> Any:
    """The CohortService an instructor's server would make for this course root."""
    from course_tracker.cohort import CohortService
    from course_tracker.config import CourseTracker
    from course_tracker.service import TrackerService

    config = CourseTracker(
        course_root=str(course_root),
        workspace_dir=str(course_root / "workspace"),
        store_path=str(course_root / "store.json"),
        db_url=db_url,
        role="instructor",
        student_id="instructor",
    )
    return CohortService(TrackerService(config))


def time_report(service: Any, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of `service.report()` rebuilt from the database, per run.

    The cache is dropped before each run, as a gradebook change does. CPU time is this process's
    own: on a machine shared with other work it is the closer estimate of an idle server's time.
    """
    wall, cpu = [], []
    for _ in range(runs):
        service._report = None
        start, start_cpu = time.perf_counter(), time.process_time()
        service.report()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the course here and keep it")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="the gradebook on a throwaway PostgreSQL cluster (tests/cohort/postgres.py) instead of SQLite",
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        db_url = None
        if args.postgres:
            sys.path.insert(0, str(ROOT / "tests"))
            from cohort.postgres import postgres_cluster

            db_url = stack.enter_context(postgres_cluster()).create_database("gradebook")
        return _measure(args, db_url)


def _measure(args: argparse.Namespace, db_url: str | None) -> int:
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="cohort-bench-")
    root = make_course_root(args.keep or Path(scratch.name) / "course")  # type: ignore[union-attr]
    try:
        started = time.perf_counter()
        cohort = generate_cohort(root, args.students, db_url=db_url)
        print(f"gradebook: {'PostgreSQL' if db_url else 'SQLite'}")
        cells = sum(len(nb.cells) for nb in cohort.notebooks)
        print(
            f"generated {len(cohort.students)} students x {len(cohort.notebooks)} notebooks "
            f"({cells} grade cells each: {len(cohort.students) * cells} grades) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        service = cohort_service(root, cohort.db_url)
        first = time_report(service, 1)[0][0]  # includes nbgrader's import and the engine
        wall, cpu = time_report(service, args.runs)
        report = service.report()
        median, median_cpu = statistics.median(wall), statistics.median(cpu)
        verdict = "met" if median < GOAL_MS else "NOT met"
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"first read (imports, engine): {first:.0f} ms")
        print(
            f"report rebuilt from the gradebook: median {median:.0f} ms wall (min {min(wall):.0f}), "
            f"{median_cpu:.0f} ms CPU, over {args.runs} runs; goal < {GOAL_MS:.0f} ms wall: {verdict}"
        )
        encode = []
        for _ in range(args.runs):
            start = time.perf_counter()
            body = json.dumps(report, ensure_ascii=False)  # what the handler's send_json does
            encode.append((time.perf_counter() - start) * 1000)
        print(
            f"report as JSON for the wire: median {statistics.median(encode):.0f} ms, "
            f"{len(body.encode()) / 1e6:.1f} MB (encoded once per report; later reads send it as is)"
        )
        cached = statistics.median(_cached(service, args.runs))
        print(f"report unchanged gradebook (cached): median {cached:.2f} ms")
        print(
            f"report: {len(report['students'])} students, {len(report['items'])} items, "
            f"{len(report['failing'])} failing tests, {len(report['ungraded'])} waiting"
        )
        return 0
    finally:
        if scratch is not None:
            scratch.cleanup()


def _cached(service: Any, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        service.report()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


if __name__ == "__main__":
    sys.exit(main())
