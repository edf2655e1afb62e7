"""Stock `nbgrader autograde` against `course grade` on the same cohort, in one run.

Builds a throwaway course holding one assignment (default Module 1), a cohort of at least
`--students` submissions (tests/grading/cohort.py: the reference, the blank release, a tampered
copy and one student per wrong answer, each with every notebook of the assignment; repeated under
new student ids until there are enough), grades two copies of it, one with each grader, and prints:

- the wall time of each and the ratio;
- each one's overhead per notebook beyond the cells' own compute time (stock: measured from the
  autograded notebooks' cell timings; course grade: its NotebookReport.compute), both in the
  worker (the notebook's own wall time) and end to end (wall time x cores used);
- the physical limit: the cells' own compute divided by the cores;
- how many cells the two gradebooks disagree on (information: the parity test owns identity).

    uv run python benchmarks/grade_speed.py [--students 20] [--assignment m1_data_engineering]
                                            [--workers N] [--keep DIR]

It prints; it never fails on speed. The machine's other load inflates both runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from grading.cohort import Submission, cohort, submit_all
from grading.compare import all_grades, differences

from nbcourse.grading.execute import cells_compute_seconds
from nbcourse.grading.settings import cpu_count
from nbcourse.nbgrader import NbgraderCourse, NbgraderError, RunOptions, autograde
from notebooks import DATA, grade_in_throwaway_courses, make_course

DEFAULT_ASSIGNMENT = "m1_data_engineering"


@dataclass(frozen=True)
class Run:
    """One grader's run over the cohort."""

    name: str
    wall: float  # seconds, start to end of the whole batch
    notebooks: int  # notebooks graded
    compute: float  # sum of the cells' own execution time
    worker_seconds: float  # sum of each notebook's own wall time (kernel start to stop)
    cores: int  # notebooks graded at once

    def overhead_in_worker(self) -> float:
        """Seconds per notebook a worker spends beyond the cells' own compute."""
        return (self.worker_seconds - self.compute) / self.notebooks if self.notebooks else 0.0

    def overhead_end_to_end(self) -> float:
        """Core-seconds per notebook beyond the cells' own compute, everything included."""
        return (self.wall * self.cores - self.compute) / self.notebooks if self.notebooks else 0.0


def full_cohort(source: Path, release: Path, students: int) -> list[Submission]:
    """`students` submissions, each with every notebook of the assignment.

    A wrong-answer student of cohort() submits only the notebook of their mistake; the other
    notebooks are the reference's (a student who finished but got one thing wrong). The list
    (reference, blank, tampered, then wrong answers of each notebook in turn) is cut to size,
    or repeated under new ids (`<id>-2`, `<id>-3`, ...) until it is long enough.
    """
    base = cohort(source, release)
    reference = next(s for s in base if s.student == "reference").notebooks
    everyone = [s for s in base if len(s.notebooks) == len(reference)]
    # Wrong answers taken in turn from each notebook, so a small cohort mixes all of them.
    by_notebook: dict[str, list[Submission]] = {}
    for s in base:
        if len(s.notebooks) < len(reference):
            by_notebook.setdefault(next(iter(s.notebooks)), []).append(s)
    everyone += [s for turn in zip_longest(*by_notebook.values()) for s in turn if s is not None]
    complete = [Submission(s.student, {**reference, **s.notebooks}) for s in everyone]
    out: list[Submission] = []
    round_ = 1
    while len(out) < students:
        suffix = "" if round_ == 1 else f"-{round_}"
        out += [Submission(s.student + suffix, s.notebooks) for s in complete]
        round_ += 1
    return out[:students]


def stock_run(course: Path, assignment: str) -> Run:
    """`nbgrader autograde ASSIGNMENT --force` for every student, as an instructor runs it."""
    nb_course = NbgraderCourse.load(course)
    env = dict(os.environ, COURSE_DATA_DIR=str(DATA))
    options = RunOptions(db_url=f"sqlite:///{course / 'gradebook.db'}", env=env)
    started = time.monotonic()
    try:
        autograde(nb_course, assignment, None, options)
    except NbgraderError as exc:  # one student's failure makes nbgrader exit non-zero; it went on
        print(f"stock autograde exited {exc.returncode} (a student it could not grade)")
    wall = time.monotonic() - started
    graded = sorted(
        nb_course.step_root(nb_course.coursedir.autograded_directory).glob(f"*/{assignment}/*.ipynb")
    )
    compute = sum(cells_compute_seconds(nbformat.read(p, as_version=4)) for p in graded)
    # Stock runs one notebook at a time: its wall time is the notebooks' own wall time.
    return Run("nbgrader autograde", wall, len(graded), compute, wall, 1)


def course_grade_run(course: Path, assignment: str, workers: int | None) -> Run:
    from nbcourse.grading.grader import grade_assignment

    started = time.monotonic()
    report = grade_assignment(course, assignment, workers=workers)
    wall = time.monotonic() - started
    for student, why in sorted(report.problems.items()):
        print(f"course grade: {student}: {'; '.join(why)}")
    return Run(
        "course grade",
        wall,
        len(report.graded),
        sum(item.compute for item in report.graded),
        sum(item.seconds for item in report.graded),
        report.workers,
    )


def report_lines(stock: Run, ours: Run, cores: int) -> list[str]:
    """The figures, as printed."""
    lines = [
        f"{'grader':20} {'wall s':>8} {'notebooks':>9} {'compute s':>9} "
        f"{'overhead/nb in worker':>22} {'overhead/nb end to end':>23}"
    ]
    for run in (stock, ours):
        lines.append(
            f"{run.name:20} {run.wall:8.1f} {run.notebooks:9d} {run.compute:9.1f} "
            f"{run.overhead_in_worker():21.2f}s {run.overhead_end_to_end():22.2f}s"
        )
    ratio = stock.wall / ours.wall if ours.wall else float("inf")
    limit = ours.compute / cores
    lines += [
        f"speed-up: course grade is {ratio:.1f}x stock nbgrader autograde (goal >= 5x on 2 cores)",
        f"physical limit: cells' own compute / cores = {ours.compute:.1f} s / {cores} = {limit:.1f} s "
        f"(stock's measured compute {stock.compute:.1f} s / {cores} = {stock.compute / cores:.1f} s); "
        f"at best {stock.wall / limit if limit else float('inf'):.1f}x stock",
    ]
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=20, help="submissions in the cohort")
    parser.add_argument("--assignment", default=DEFAULT_ASSIGNMENT)
    parser.add_argument("--workers", type=int, default=None, help="course grade's workers (default: cores)")
    parser.add_argument("--keep", type=Path, default=None, help="build the courses here and keep them")
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error("--students must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    grade_in_throwaway_courses()
    work = args.keep or Path(tempfile.mkdtemp(prefix="grade-speed-"))
    try:
        stock = make_course(work / "stock", args.assignment)
        course = NbgraderCourse.load(stock)
        subs = full_cohort(
            course.source_dir(args.assignment), course.release_dir(args.assignment), args.students
        )
        submit_all(stock, args.assignment, subs, course.step_root(course.coursedir.submitted_directory))
        ours = work / "ours"
        shutil.copytree(stock, ours)
        print(f"{args.assignment}: {len(subs)} students, {len(subs) * len(subs[0].notebooks)} notebooks")

        stock_figures = stock_run(stock, args.assignment)
        ours_figures = course_grade_run(ours, args.assignment, args.workers)
        for line in report_lines(stock_figures, ours_figures, cpu_count()):
            print(line)
        diff = differences(
            all_grades(stock / "gradebook.db", args.assignment),
            all_grades(ours / "gradebook.db", args.assignment),
        )
        print(f"cells graded differently by the two: {len(diff)}")
        for line in diff[:10]:
            print(f"  {line}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
